// The explicit Tailscale provider takes over the engine's default provider by its name: the name
// must be the engine's own (pkg/resource/deploy/providers ProviderRequest.DefaultName).
import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultProviderName } from "../components/tailnetProvider";

test("the default provider's name is the engine's: default, then each version part after an underscore", () => {
    assert.equal(defaultProviderName("0.27.1"), "default_0_27_1");
    assert.equal(defaultProviderName("v1.2.3"), "default_1_2_3");
    assert.equal(defaultProviderName("1.2.3-alpha.1+build.5"), "default_1_2_3_alpha_1_build_5");
    assert.equal(defaultProviderName("10.0.12"), "default_10_0_12");
});

test("a version that is not semantic is refused, naming it", () => {
    for (const bad of ["0.27", "latest", "0.27.1 ", "", "1.2.3.4"]) {
        assert.throws(
            () => defaultProviderName(bad),
            (e: Error) => e.message === `not a semantic version: ${JSON.stringify(bad)}`,
        );
    }
});
