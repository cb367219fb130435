#!/usr/bin/env bash
# A fuzzing campaign: every Jazzer target (each @FuzzTest method of the classes named *FuzzTest)
# runs in fuzzing mode for the time its annotation's maxDuration gives, one JVM each (Jazzer fuzzes
# one test per run), and a table of targets, seconds, executions and findings is printed for
# docs/BENCHMARKS.md ("Fuzzing campaigns").
#   scripts/fuzz-campaign.sh                 every target
#   scripts/fuzz-campaign.sh REGEX           the targets whose Class#method matches REGEX
# A finding fails the target: Jazzer writes the crashing input into the target's regression
# directory (src/test/resources/<package>/<Class>Inputs/<method>/); fix the cause, keep the input
# there (it runs in every `./citadel test` from then on) and run the target again. The logs of
# each run are kept in target/fuzz-campaign/.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FILTER=${1:-.}
LOGS=$ROOT/target/fuzz-campaign
mkdir -p "$LOGS"
# The project's modules must be installed for -pl to resolve them (the launcher's build does that).
mvn -B -q -o install -DskipTests >/dev/null || { echo "the build failed; run ./citadel test first" >&2; exit 2; }

targets=()
while IFS= read -r file; do
  module=${file%%/src/*}
  class=$(basename "$file" .java)
  # each @FuzzTest(maxDuration = "Ns") followed by its method's declaration
  while IFS='|' read -r seconds method; do
    targets+=("$module|$class|$method|$seconds")
  done < <(awk '/@FuzzTest/ { d = 30; if (match($0, /maxDuration = "[0-9]+s"/)) { d = substr($0, RSTART + 15, RLENGTH - 17) }; want = 1; next }
                want && /void [a-zA-Z0-9_]+\(/ { match($0, /void [a-zA-Z0-9_]+\(/); print d "|" substr($0, RSTART + 5, RLENGTH - 6); want = 0 }' "$file")
done < <(grep -rl --include='*FuzzTest.java' '@FuzzTest' citadel-*/src/test/java | sort)

echo "| target | seconds | executions | result |"
echo "|---|---:|---:|---|"
failed=0
for t in "${targets[@]}"; do
  IFS='|' read -r module class method seconds <<<"$t"
  [[ "$class#$method" =~ $FILTER ]] || continue
  log=$LOGS/$class-$method.log
  start=$(date +%s)
  JAZZER_FUZZ=1 mvn -B -o -pl "$module" test -Dtest="$class#$method" -Dsurefire.failIfNoSpecifiedTests=false \
      -Djacoco.skip=true >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  # libFuzzer's last status line: "#<runs> DONE ..." or "Done <runs> runs in <s> second(s)"
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+')
  [[ -n "$runs" ]] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  if (( rc == 0 )); then
    result="no finding"
  else
    result="**finding or failure** (see target/fuzz-campaign/$class-$method.log)"
    failed=$((failed + 1))
  fi
  printf '| `%s#%s` | %s (%s s with the build) | %s | %s |\n' "$class" "$method" "$seconds" "$took" "${runs:-?}" "$result"
done
exit $(( failed > 0 ))
