// The storage stack pointed at another Tailscale API (a self-hosted control server, or the engine
// suite's stand-in): the program's explicit Tailscale provider is given the stack's address and
// tailnet, as the engine's default provider would have read them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram } from "./support/program";
import { assertWiring, settingsOf } from "./support/wiring";

const api = { "tailscale:baseUrl": "https://headscale.example.org", "tailscale:tailnet": "example.org" };

test("the Tailscale provider takes the stack's tailscale:baseUrl and tailscale:tailnet", async (t) => {
    const run = await runProgram("storage", (r) => t.skip(r), api);
    if (!run) return;
    assertWiring(run, settingsOf("storage", api));
    const [provider] = run.ofType("pulumi:providers:tailscale");
    assert.equal(provider.inputs.baseUrl, "https://headscale.example.org");
    assert.equal(provider.inputs.tailnet, "example.org");
});
