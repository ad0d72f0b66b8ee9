// A stack config as the config tests write it: a minimal valid one with fields merged over it,
// and the problems parseConfig reports for one.
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../components/config";
import { Raw } from "../../components/configReader";

/** An ed25519 public key, the sample the shipped stack files carry. */
export const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJb3Aa5Ng8YsqOWzf4zXFf3R0MFaJjZ80BCDqRgv/yen admin@workstation";

/** A minimal valid config, with `extra` merged over it. */
export function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return { sshPublicKeys: [KEY], tailscale: { tailnet: "bat-boa.ts.net" }, projects: [{ name: "myapp" }], ...extra };
}

/** The problems parseConfig reports for `raw` (and the Tailscale provider's `provider`); fails when it reports none. */
export function problems(raw: Record<string, unknown>, provider: Raw = {}): string[] {
    try {
        parseConfig(raw, provider);
    } catch (e) {
        assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
        return e.problems;
    }
    assert.fail(`expected problems for ${JSON.stringify(raw)}`);
}
