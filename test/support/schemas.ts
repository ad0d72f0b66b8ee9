// Finding the reference schemas in ../shared/schemas (or $PROJECT_VMS_SCHEMAS), and checking
// values against the libvirt provider's Pulumi package schema.
import * as fs from "node:fs";
import * as path from "node:path";
import type Ajv from "ajv";
import type { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/** The repository root. */
export const REPO = path.resolve(__dirname, "..", "..");
/**
 * The stack files as shipped (`examples/`): what the tests read, whatever the user did to the
 * checkout's own `Pulumi.<host>.yaml` (stack init, secrets, their projects).
 */
export const EXAMPLES = path.join(REPO, "examples");

/** Where the reference schemas are: $PROJECT_VMS_SCHEMAS, else ../shared/schemas beside the repo. */
export const SCHEMA_DIR = process.env.PROJECT_VMS_SCHEMAS ?? path.resolve(REPO, "..", "shared", "schemas");

/**
 * Reads a reference schema. When it is missing: under CI (CI=true) that is a failure; elsewhere
 * the test is skipped with the reason, through `skip`.
 */
export function loadSchema(file: string, skip: (reason: string) => void): any | undefined {
    const p = path.join(SCHEMA_DIR, file);
    if (fs.existsSync(p)) return JSON.parse(fs.readFileSync(p, "utf8"));
    const reason = `${p} not found: set PROJECT_VMS_SCHEMAS to the folder holding ${file} (../shared/schemas)`;
    if (process.env.CI === "true") throw new Error(`${reason}; CI must have it`);
    skip(reason);
    return undefined;
}

/**
 * A validator for a reference JSON schema, compiled by `ajv` (of the schema's draft) with the
 * standard formats; undefined when the schema is missing outside CI (see loadSchema).
 */
export function schemaValidator(file: string, ajv: Ajv, skip: (reason: string) => void): ValidateFunction | undefined {
    const schema = loadSchema(file, skip);
    if (!schema) return undefined;
    addFormats(ajv);
    return ajv.compile(schema);
}

/** A property spec in a Pulumi package schema. */
export interface PropSpec {
    type?: string;
    $ref?: string;
    items?: PropSpec;
    additionalProperties?: PropSpec;
}

/** A resource (or provider) spec in a Pulumi package schema. */
export interface ResourceSpec {
    inputProperties?: Record<string, PropSpec>;
    properties?: Record<string, PropSpec>;
    requiredInputs?: string[];
    required?: string[];
}

/** The resource spec of `token`; `pulumi:providers:libvirt` is the schema's provider. */
export function resourceSpec(schema: any, token: string): ResourceSpec | undefined {
    if (token === `pulumi:providers:${schema.name}`) return schema.provider;
    return schema.resources?.[token];
}

/** The object type a `$ref` points to. */
export function refType(schema: any, ref: string): { properties: Record<string, PropSpec>; required?: string[] } | undefined {
    return schema.types?.[ref.replace(/^#\/types\//, "")];
}

/**
 * Every way `inputs` (plain values, as the engine receives them) breaks the schema's inputs of
 * `token`: unknown properties, wrong types (nested types included), missing required inputs.
 */
export function inputProblems(schema: any, token: string, inputs: Record<string, unknown>): string[] {
    const spec = resourceSpec(schema, token);
    if (!spec) return [`${token}: not a resource of the schema`];
    const problems: string[] = [];
    checkObject(schema, spec.inputProperties ?? {}, spec.requiredInputs ?? [], inputs, token, problems);
    return problems;
}

function checkObject(
    schema: any,
    props: Record<string, PropSpec>,
    required: string[],
    value: Record<string, unknown>,
    at: string,
    problems: string[],
): void {
    for (const [k, v] of Object.entries(value)) {
        if (v === undefined || v === null) continue;
        const p = props[k];
        if (!p) problems.push(`${at}.${k}: not a property of the schema`);
        else checkValue(schema, p, v, `${at}.${k}`, problems);
    }
    for (const r of required) {
        if (value[r] === undefined || value[r] === null) problems.push(`${at}.${r}: required, missing`);
    }
}

function checkValue(schema: any, p: PropSpec, v: unknown, at: string, problems: string[]): void {
    if (p.$ref) {
        const t = refType(schema, p.$ref);
        if (!t) return void problems.push(`${at}: unknown type ${p.$ref}`);
        if (typeof v !== "object" || Array.isArray(v)) return void problems.push(`${at}: expected an object, got ${JSON.stringify(v)}`);
        return checkObject(schema, t.properties, t.required ?? [], v as Record<string, unknown>, at, problems);
    }
    const ok: Record<string, (x: unknown) => boolean> = {
        string: (x) => typeof x === "string",
        integer: (x) => Number.isInteger(x),
        number: (x) => typeof x === "number",
        boolean: (x) => typeof x === "boolean",
        array: (x) => Array.isArray(x),
        object: (x) => typeof x === "object" && !Array.isArray(x),
    };
    if (!p.type || !ok[p.type]) return void problems.push(`${at}: schema type ${JSON.stringify(p)} not understood`);
    if (!ok[p.type](v)) return void problems.push(`${at}: expected ${p.type}, got ${JSON.stringify(v)}`);
    if (p.type === "array" && p.items) (v as unknown[]).forEach((x, i) => checkValue(schema, p.items!, x, `${at}[${i}]`, problems));
    if (p.type === "object" && p.additionalProperties) {
        for (const [k, x] of Object.entries(v as object)) checkValue(schema, p.additionalProperties, x, `${at}.${k}`, problems);
    }
}
