#!/usr/bin/env python3
"""Dump moto's IAM policy-validation test data to moto-iam-policies.json.

Usage: python3 generate.py path/to/moto/tests/test_iam/test_iam_policies.py [commit] [date]

The two module-level lists (invalid_policy_document_test_cases, valid_policy_documents) are read
with ast.literal_eval, so nothing of moto is imported or run. Each document is stored as
json.dumps(document), exactly the text moto's tests send as PolicyDocument.
"""
import ast
import json
import sys

source_path = sys.argv[1]
commit = sys.argv[2] if len(sys.argv) > 2 else None
date = sys.argv[3] if len(sys.argv) > 3 else None
with open(source_path, encoding="utf-8") as f:
    tree = ast.parse(f.read())

lists = {}
for node in tree.body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        name = node.targets[0].id
        if name in ("invalid_policy_document_test_cases", "valid_policy_documents"):
            lists[name] = ast.literal_eval(node.value)

out = {
    "source": "https://github.com/getmoto/moto/blob/%s/tests/test_iam/test_iam_policies.py" % (commit or "master"),
    "commit": commit,
    "commitDate": date,
    "license": "Apache-2.0",
    "invalid": [
        {"index": i, "document": json.dumps(case["document"]), "errorMessage": case["error_message"]}
        for i, case in enumerate(lists["invalid_policy_document_test_cases"])
    ],
    "valid": [
        {"index": i, "document": json.dumps(doc)}
        for i, doc in enumerate(lists["valid_policy_documents"])
    ],
}
with open("moto-iam-policies.json", "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(len(out["invalid"]), "invalid,", len(out["valid"]), "valid")
