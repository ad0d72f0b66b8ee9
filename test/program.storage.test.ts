// The program for the real Pulumi.storage.yaml under mocks: every libvirt input checked against
// the provider schema as it is registered, and the wiring checked project by project.
import assert from "node:assert/strict";
import { test } from "node:test";
import { armedPurgesOf, systemDiskBases, systemDiskUrn } from "../cli/pulumi";
import { runProgram } from "./support/program";
import { assertSecretOnlyIn, assertWiring, settingsOf } from "./support/wiring";

test("storage: resources, wiring and outputs", async (t) => {
    const api = { "tailscale:apiKey": "tskey-api-test", "tailscale:tailnet": "bat-boa.ts.net" };
    const run = await runProgram("storage", (r) => t.skip(r), api);
    if (!run) return;
    const s = settingsOf("storage", api);
    assert.deepEqual(
        s.projects.map((p) => p.name),
        ["myapp", "webapp"],
    );
    assertWiring(run, s);

    const onTailnet = s.projects.find((p) => p.name === "myapp")!;
    assert.deepEqual(
        onTailnet.features,
        { nix: true, tailscale: true, claudeCode: true },
        "user-data secrecy is checked on a VM on the tailnet with every feature on",
    );
    assertSecretOnlyIn(run, "tskey-api-test", [
        "tailnet.apiKey",
        "project-myapp-tailnet-machine.environment",
        "project-webapp-tailnet-machine.environment",
    ]);

    const myapp = run.named("project-myapp").inputs;
    assert.deepEqual({ memory: myapp.memory, vcpu: myapp.vcpu }, { memory: 16384, vcpu: 8 }, "myapp's own sizes");
    assert.equal(run.named("project-myapp-project-disk").inputs.size, 100 * 1024 ** 3);
    const webapp = run.named("project-webapp").inputs;
    assert.deepEqual({ memory: webapp.memory, vcpu: webapp.vcpu }, { memory: 4096, vcpu: 2 }, "webapp on the stack defaults");

    const net = run.named("host-network").inputs;
    assert.deepEqual(
        { mode: net.mode, addresses: net.addresses, name: net.name, bridge: net.bridge, dhcp: net.dhcp, dns: net.dns },
        {
            mode: "nat",
            addresses: ["10.17.0.0/24"],
            name: "project-vms",
            bridge: "project-vms",
            dhcp: { enabled: true },
            dns: { enabled: true },
        },
        "the bridge is named as the network: the NixOS module's firewall trusts it by that name; guests get leases (DHCP) and names (DNS) from it",
    );
    assert.equal(run.named("project-myapp").inputs.qemuAgent, false, "leases answer on the program's own network");

    assert.equal(
        run.named("project-myapp-grow-project-disk").inputs.environment.CONFIG_KEY,
        "disk of project myapp (project-vms:projects)",
        "a refused shrink names the key to set back",
    );
    const machine = run.named("project-myapp-tailnet-machine").inputs.environment;
    assert.deepEqual(
        { key: machine.TS_API_KEY, url: machine.TS_BASE_URL },
        { key: "tskey-api-test", url: "https://api.tailscale.com" },
        "the Tailscale provider's own config",
    );

    // What project-vm reads of this program's state, and the URN it names to the engine (base move's --replace).
    assert.equal(run.named("project-myapp-system-disk").urn, systemDiskUrn("storage", "myapp"));
    const exported = {
        deployment: { resources: run.resources.map(({ urn, type, retainOnDelete, inputs }) => ({ urn, type, retainOnDelete, inputs })) },
    };
    assert.deepEqual([...armedPurgesOf(exported)], [], "no project of the shipped file is to be purged");
    assert.deepEqual(
        [...systemDiskBases(exported)].map(([p, base]) => [p, /^debian-testing-.*\.qcow2$/.test(base)]),
        [
            ["myapp", true],
            ["webapp", true],
        ],
        "each system disk overlays a base volume, named by its file",
    );
});
