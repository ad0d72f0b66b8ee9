// The hand-written libvirt binding (sdks/libvirt) against the provider's published schema: every
// declared property exists with a compatible type (nested types included), required inputs are
// required, and the package asks the engine for plugin v0.5.4.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import ts from "typescript";
import * as libvirt from "@pulumi/libvirt";
import { loadSchema, PropSpec, REPO } from "./support/schemas";

const SDK = path.join(REPO, "sdks", "libvirt");

/** A TypeScript type as the binding spells it, reduced to the shapes a schema can express. */
type Shape =
    | { kind: "string" | "number" | "boolean" }
    | { kind: "array"; items: Shape }
    | { kind: "map"; values: Shape }
    | { kind: "ref"; name: string };

interface Prop {
    name: string;
    optional: boolean;
    shape: Shape;
    /** For outputs: whether the type admits undefined. */
    undefinedable: boolean;
}

/** A binding file parsed by the TypeScript compiler (syntax only: the binding is read as written). */
function sourceFile(rel: string): ts.SourceFile {
    const file = path.join(SDK, rel);
    return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
}

/** Interfaces and type aliases of types/input.ts by name. */
const inputTypes = new Map<string, ts.InterfaceDeclaration | ts.TypeAliasDeclaration>();
for (const st of sourceFile("types/input.ts").statements) {
    if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) inputTypes.set(st.name.text, st);
}

function shapeOf(node: ts.TypeNode): { shape: Shape; undefinedable: boolean } {
    if (ts.isUnionTypeNode(node)) {
        const rest = node.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword);
        assert.equal(rest.length, 1, `unsupported union ${node.getText()}`);
        return { shape: shapeOf(rest[0]).shape, undefinedable: rest.length < node.types.length };
    }
    if (ts.isParenthesizedTypeNode(node)) return shapeOf(node.type);
    switch (node.kind) {
        case ts.SyntaxKind.StringKeyword:
            return { shape: { kind: "string" }, undefinedable: false };
        case ts.SyntaxKind.NumberKeyword:
            return { shape: { kind: "number" }, undefinedable: false };
        case ts.SyntaxKind.BooleanKeyword:
            return { shape: { kind: "boolean" }, undefinedable: false };
    }
    if (ts.isArrayTypeNode(node)) return { shape: { kind: "array", items: shapeOf(node.elementType).shape }, undefinedable: false };
    if (ts.isTypeLiteralNode(node)) {
        const index = node.members.find(ts.isIndexSignatureDeclaration);
        assert.ok(index && node.members.length === 1, `unsupported type literal ${node.getText()}`);
        return { shape: { kind: "map", values: shapeOf(index.type).shape }, undefinedable: false };
    }
    if (ts.isTypeReferenceNode(node)) {
        const name = node.typeName.getText();
        if (name === "pulumi.Input" || name === "pulumi.Output") return shapeOf(node.typeArguments![0]);
        const bare = name.replace(/^(inputs|outputs)\./, "");
        return { shape: { kind: "ref", name: bare }, undefinedable: false };
    }
    throw new Error(`unsupported type ${node.getText()}`);
}

function propsOfInterface(decl: ts.InterfaceDeclaration): Prop[] {
    return decl.members.filter(ts.isPropertySignature).map((m) => ({
        name: m.name.getText(),
        optional: !!m.questionToken,
        ...shapeOf(m.type!),
    }));
}

/** The input interface a type name stands for, following aliases (`type DomainXml = Xslt`). */
function inputInterface(name: string): ts.InterfaceDeclaration {
    const decl = inputTypes.get(name);
    assert.ok(decl, `types/input.ts declares ${name}`);
    if (ts.isInterfaceDeclaration(decl)) return decl;
    return inputInterface(decl.type.getText());
}

interface ClassInfo {
    token: string;
    file: string;
    args: Prop[];
    argsRequired: boolean;
    outputs: Prop[];
}

function classInfo(file: string, className: string, argsName: string): ClassInfo {
    const sf = sourceFile(file);
    const cls = sf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === className)!;
    const tokenProp = cls.members.find(
        (m): m is ts.PropertyDeclaration => ts.isPropertyDeclaration(m) && m.name.getText() === "__pulumiType",
    )!;
    const token = (tokenProp.initializer as ts.StringLiteral).text;
    const argsDecl = sf.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === argsName)!;
    const ctor = cls.members.find(ts.isConstructorDeclaration)!;
    const argsParam = ctor.parameters[1];
    const outputs = cls.members
        .filter(
            (m): m is ts.PropertyDeclaration =>
                ts.isPropertyDeclaration(m) && !m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword),
        )
        .map((m) => ({ name: m.name.getText(), optional: false, ...shapeOf(m.type!) }));
    return { token, file, args: propsOfInterface(argsDecl), argsRequired: !argsParam.questionToken, outputs };
}

const CLASSES = [
    classInfo("provider.ts", "Provider", "ProviderArgs"),
    classInfo("pool.ts", "Pool", "PoolArgs"),
    classInfo("volume.ts", "Volume", "VolumeArgs"),
    classInfo("cloudInitDisk.ts", "CloudInitDisk", "CloudInitDiskArgs"),
    classInfo("domain.ts", "Domain", "DomainArgs"),
    classInfo("network.ts", "Network", "NetworkArgs"),
];

const refName = (ref: string) => ref.replace(/^#\/types\/libvirt:index\/\w+:/, "");

/** Problems of a binding shape against a schema property (recursing into nested input types). */
function compare(schema: any, spec: PropSpec, shape: Shape, at: string, seen: Set<string>): string[] {
    if (spec.$ref) {
        if (shape.kind !== "ref" || shape.name !== refName(spec.$ref))
            return [`${at}: schema ${spec.$ref}, binding ${JSON.stringify(shape)}`];
        return compareType(schema, shape.name, seen);
    }
    const expected: Record<string, Shape["kind"]> = {
        string: "string",
        integer: "number",
        number: "number",
        boolean: "boolean",
        array: "array",
        object: "map",
    };
    if (expected[spec.type!] !== shape.kind) return [`${at}: schema ${spec.type}, binding ${shape.kind}`];
    if (shape.kind === "array") return compare(schema, spec.items!, shape.items, `${at}[]`, seen);
    if (shape.kind === "map") return compare(schema, spec.additionalProperties!, shape.values, `${at}{}`, seen);
    return [];
}

function compareType(schema: any, name: string, seen: Set<string>): string[] {
    if (seen.has(name)) return [];
    seen.add(name);
    const type = schema.types[`libvirt:index/${name}:${name}`];
    if (!type) return [`${name}: no such type in the schema`];
    const problems: string[] = [];
    const required = new Set<string>(type.required ?? []);
    for (const p of propsOfInterface(inputInterface(name))) {
        const spec = type.properties[p.name];
        if (!spec) {
            problems.push(`${name}.${p.name}: not in the schema`);
            continue;
        }
        problems.push(...compare(schema, spec, p.shape, `${name}.${p.name}`, seen));
        if (required.has(p.name) === p.optional)
            problems.push(`${name}.${p.name}: required in the schema is ${required.has(p.name)}, binding optional is ${p.optional}`);
    }
    return problems;
}

describe("the libvirt binding against the provider schema", () => {
    for (const c of CLASSES) {
        test(`${c.token}: inputs exist with compatible types and required inputs are required`, (t) => {
            const schema = loadSchema("libvirt-schema.json", (r) => t.skip(r));
            if (!schema) return;
            const res = c.token === "libvirt" ? schema.provider : schema.resources[c.token];
            assert.ok(res, `${c.token} is a resource of the schema`);
            const problems: string[] = [];
            const required = new Set<string>(res.requiredInputs ?? []);
            const seen = new Set<string>();
            for (const p of c.args) {
                const spec = res.inputProperties[p.name];
                if (!spec) {
                    problems.push(`${p.name}: not an input of the schema`);
                    continue;
                }
                problems.push(...compare(schema, spec, p.shape, p.name, seen));
                if (required.has(p.name) === p.optional)
                    problems.push(`${p.name}: schema required=${required.has(p.name)}, binding optional=${p.optional}`);
            }
            if (required.size > 0) assert.ok(c.argsRequired, "a resource with required inputs takes its args as a required parameter");
            const missing = Object.keys(res.inputProperties).filter((k) => !c.args.some((a) => a.name === k));
            assert.deepEqual(missing, [], "every schema input is declared");
            assert.deepEqual(problems, []);
        });

        test(`${c.token}: outputs exist, and the ones the provider always sets are not undefined`, (t) => {
            const schema = loadSchema("libvirt-schema.json", (r) => t.skip(r));
            if (!schema) return;
            const res = c.token === "libvirt" ? schema.provider : schema.resources[c.token];
            const required = new Set<string>(res.required ?? []);
            const problems: string[] = [];
            for (const o of c.outputs) {
                const spec = res.properties[o.name];
                if (!spec) {
                    problems.push(`${o.name}: not an output of the schema`);
                    continue;
                }
                problems.push(...compare(schema, spec, o.shape, o.name, new Set()));
                if (required.has(o.name) === o.undefinedable)
                    problems.push(`${o.name}: schema always-set=${required.has(o.name)}, binding admits undefined=${o.undefinedable}`);
            }
            assert.deepEqual(problems, []);
        });
    }

    test("every class hands the engine each declared output, so each becomes an Output", () => {
        const runtime: Record<string, { propertyNames?: readonly string[] }> = {
            "pool.ts": libvirt.Pool,
            "volume.ts": libvirt.Volume,
            "cloudInitDisk.ts": libvirt.CloudInitDisk,
            "domain.ts": libvirt.Domain,
            "network.ts": libvirt.Network,
        };
        for (const c of CLASSES.filter((x) => runtime[x.file])) {
            assert.deepEqual([...runtime[c.file].propertyNames!].sort(), c.outputs.map((o) => o.name).sort(), c.token);
            assert.deepEqual(c.args.map((a) => a.name).sort(), c.outputs.map((o) => o.name).sort(), `${c.token}: inputs and outputs agree`);
        }
    });

    test("a missing required input fails like the generated SDK", () => {
        assert.throws(() => new libvirt.Pool("p", {} as libvirt.PoolArgs), /Missing required property 'type'/);
    });
});

describe("the package", () => {
    test("is @pulumi/libvirt 0.5.4 and asks the engine for plugin libvirt v0.5.4", () => {
        const pkg = JSON.parse(fs.readFileSync(path.join(SDK, "package.json"), "utf8"));
        assert.equal(pkg.name, "@pulumi/libvirt");
        assert.equal(pkg.version, "0.5.4");
        assert.deepEqual(pkg.pulumi, { resource: true, name: "libvirt", version: "0.5.4" });
        assert.equal(libvirt.pluginVersion, "0.5.4");
        const root = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
        assert.equal(root.dependencies["@pulumi/libvirt"], "file:sdks/libvirt");
    });

    test("uses the provider's real type tokens", () => {
        assert.deepEqual(
            CLASSES.map((c) => c.token),
            [
                "libvirt",
                "libvirt:index/pool:Pool",
                "libvirt:index/volume:Volume",
                "libvirt:index/cloudInitDisk:CloudInitDisk",
                "libvirt:index/domain:Domain",
                "libvirt:index/network:Network",
            ],
        );
    });
});
