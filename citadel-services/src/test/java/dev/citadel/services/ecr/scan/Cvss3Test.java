package dev.citadel.services.ecr.scan;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** CVSS v3 base scores of vectors whose scores NVD publishes. */
class Cvss3Test {
    @Test
    void baseScoresMatchPublishedOnes() {
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).contains(9.8);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H")).contains(7.5);
        assertThat(Cvss3.baseScore("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:N/I:H/A:N")).contains(6.5);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H")).contains(5.5);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H")).contains(10.0);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:H/I:N/A:N")).contains(4.7);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H")).contains(8.8);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N")).contains(5.3);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N")).contains(1.6);
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N")).contains(0.0);
        assertThat(Cvss3.baseScore("CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N/E:P/RL:O/RC:C")).contains(9.8);
    }

    @Test
    void roundUpIsFreeOfFloatingPointNoise() {
        assertThat(Cvss3.roundUp(4.02)).isEqualTo(4.1);
        assertThat(Cvss3.roundUp(4.00000000001)).isEqualTo(4.0);
        assertThat(Cvss3.roundUp(6.4853)).isEqualTo(6.5);
    }

    @Test
    void anythingElseIsNotAVector() {
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H")).isEmpty();
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).isEmpty();
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")).isEmpty();
        assertThat(Cvss3.baseScore("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1")).isEmpty();
        assertThat(Cvss3.baseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")).isEmpty();
        assertThat(Cvss3.baseScore("AV:N/AC:L/Au:N/C:P/I:P/A:P")).isEmpty();
        assertThat(Cvss3.baseScore("CVSS:3.1/")).isEmpty();
        assertThat(Cvss3.baseScore(null)).isEmpty();
    }

    @Test
    void severitiesFromScoresAndLabels() {
        assertThat(Severity.ofScore(9.0)).isEqualTo(Severity.CRITICAL);
        assertThat(Severity.ofScore(8.9)).isEqualTo(Severity.HIGH);
        assertThat(Severity.ofScore(4.0)).isEqualTo(Severity.MEDIUM);
        assertThat(Severity.ofScore(0.1)).isEqualTo(Severity.LOW);
        assertThat(Severity.ofScore(0.0)).isEqualTo(Severity.INFORMATIONAL);
        assertThat(Severity.ofLabel("MODERATE")).contains(Severity.MEDIUM);
        assertThat(Severity.ofLabel("low**")).contains(Severity.LOW);
        assertThat(Severity.ofLabel("unimportant")).contains(Severity.INFORMATIONAL);
        assertThat(Severity.ofLabel("not yet assigned")).isEmpty();
        assertThat(Severity.ofLabel("end-of-life")).isEmpty();
    }
}
