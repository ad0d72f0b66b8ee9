// How much each VM puts in Pulumi's state: the inputs of its resources (the state holds them, and
// commands and volumes echo them as outputs too). Printed per resource; the test fails above the
// budget. Before the commands carried their program once and packed, and user-data packed its
// scripts (cloud-init's gz+b64), a VM of the shipped storage stack registered 99.8 KB of inputs.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runProgram } from "./support/program";

/**
 * Bytes of inputs (as JSON) one VM may register. The issue's goal is 15 KB; see the README. 24 KB
 * since tailnet.sh proves a node by its auth key's life (the key's times and the check, 0.7 KB);
 * 24.25 KB since ready.sh starts a command again when the guest agent's channel resets (packed, a
 * few bytes over 24 KB); 24.5 KB since ready.sh and power.sh never take a VM whose state libvirt
 * cannot give for one that is off (domain_state_sure, 0.3 KB packed in the two).
 */
const BUDGET = 24 * 1024 + 512;

test("each VM registers a lean state: every host program once and packed, user-data's scripts packed", async (t) => {
    const run = await runProgram("storage", (r) => t.skip(r), {});
    if (!run) return;
    for (const vm of run.ofType("project-vms:index:ProjectVm")) {
        const resources = run.resources.filter((r) => r.parent === vm.urn);
        const sizes = resources.map((r) => [r.name, JSON.stringify(r.inputs).length] as const);
        const total = sizes.reduce((sum, [, n]) => sum + n, 0);
        console.log(
            `state: ${vm.name}: ${resources.length} resources, ${(total / 1024).toFixed(1)} KB of inputs (${sizes.map(([n, s]) => `${n.replace(`${vm.name}-`, "")} ${s}`).join(", ")})`,
        );
        assert.ok(total <= BUDGET, `${vm.name}: ${total} bytes of inputs, over the budget of ${BUDGET}`);
        for (const r of resources.filter((x) => x.type === "command:local:Command")) {
            for (const field of ["create", "update", "delete"]) {
                const text = r.inputs[field];
                if (text !== undefined)
                    assert.ok(text.length < 120, `${r.name}.${field} only unpacks its program and calls it (${text.length} bytes)`);
            }
        }
    }
});
