// Loads the real program (index.ts) under mocks for one stack and waits for every resource.
import { installMocks, Registered, valueOf } from "./mocks";
import { loadSchema } from "./schemas";
import { stackConfig } from "./stack";

/** The outcome of one program run. */
export interface ProgramRun {
    /** The stack the program ran for. */
    stack: string;
    /** Every resource registration, in order. */
    resources: Registered[];
    /** The stack's `projects` output. */
    projects: Record<string, any>;
    /** Registrations of one type token. */
    ofType(type: string): Registered[];
    /** The one custom resource (not a component) with this logical name. */
    named(name: string): Registered;
}

/**
 * Runs index.ts for `stack` (its real stack file plus `overrides`). Returns undefined when the
 * libvirt schema is missing outside CI (after `skip` was told why).
 */
export async function runProgram(
    stack: string,
    skip: (reason: string) => void,
    overrides: Record<string, unknown> = {},
): Promise<ProgramRun | undefined> {
    const schema = loadSchema("libvirt-schema.json", skip);
    if (!schema) return undefined;
    const resources = await installMocks(stack, stackConfig(stack, overrides), schema);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../../index");
    const projects = await valueOf<Record<string, any>>(program.projects);
    await new Promise((r) => setTimeout(r, 50));
    return {
        stack,
        resources,
        projects,
        ofType: (type) => resources.filter((r) => r.type === type),
        named: (name) => {
            const found = resources.filter((r) => r.name === name && !r.type.startsWith("project-vms:index:"));
            if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
            return found[0];
        },
    };
}
