// A stack's config as the Pulumi CLI hands it to the program: the project's declared defaults
// from Pulumi.yaml, overlaid with Pulumi.<stack>.yaml, as a flat map of strings (objects and
// lists as JSON).
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { flatConfigValue as flat, projectDefaults as defaultsOf } from "../../cli/stacks";
import { EXAMPLES, REPO } from "./schemas";

/** The declared defaults of Pulumi.yaml, namespaced: `project-vms:<key>` → value (as the CLI does). */
export function projectDefaults(): Record<string, string> {
    return defaultsOf(REPO);
}

/** The raw `config:` map of a shipped stack file (examples/). */
export function stackFile(stack: string): Record<string, unknown> {
    return parse(fs.readFileSync(path.join(EXAMPLES, `Pulumi.${stack}.yaml`), "utf8")).config;
}

/** The config the program sees for `stack`, with `overrides` (namespaced keys) applied. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, string> {
    const out = projectDefaults();
    for (const [k, v] of Object.entries({ ...stackFile(stack), ...overrides })) {
        if (v === undefined) delete out[k];
        else out[k] = flat(v);
    }
    return out;
}
