// Pulumi.yaml as the option declarations make it: the `config:` block Pulumi checks and hands to
// the program, and a comment on the options Pulumi cannot declare. Written by
// `npm run gen:pulumi-yaml`; test/pulumiProject.test.ts fails when the file differs.
import { stringify } from "yaml";
import { FEATURES, limitsText, OptionDecl, STACK_OPTIONS } from "./configOptions";
import { NAMESPACE } from "./validate";

/** The type Pulumi's project schema gives an option of this kind, or undefined when it has none (objects, lists). */
export function pulumiType(d: OptionDecl): Record<string, unknown> | undefined {
    switch (d.kind) {
        case "string":
        case "size":
            return { type: "string" };
        case "integer":
        case "memory":
            return { type: "integer" };
        case "boolean":
            return { type: "boolean" };
        case "strings":
            return { type: "array", items: { type: "string" } };
        default:
            return undefined;
    }
}

/**
 * Whether Pulumi.yaml declares the option: Pulumi can type it, and it has a default or is required
 * (Pulumi treats a key declared without a default as required, and will not preview a stack
 * without it).
 */
export function declaredInPulumiYaml(d: OptionDecl): boolean {
    return pulumiType(d) !== undefined && d.undeclared === undefined && (d.default !== undefined || d.required === true);
}

/** The description as the user reads it: `Required.` first when it is, the limits at the end. */
export function shownDescription(d: OptionDecl): string {
    const limits = limitsText(d);
    const text = limits ? `${d.description.replace(/\.$/, "")} (${limits}).` : d.description;
    return d.required ? `Required. ${text}` : text;
}

/** What an option is when unset, in words: its default, the stack option it inherits, or nothing. */
function defaultWords(d: OptionDecl): string | undefined {
    if (d.default !== undefined) return `default ${Array.isArray(d.default) ? `[${d.default.join(", ")}]` : String(d.default)}`;
    if (d.defaultText !== undefined) return `default ${d.defaultText}`;
    if (d.inherits !== undefined) return `default: the stack's ${d.inherits}`;
    return undefined;
}

/** `{name, memory?, …}`: an object's keys, `?` on those that may be left out. */
function shape(options: Readonly<Record<string, OptionDecl>>): string {
    return `{${Object.entries(options)
        .map(([k, d]) => (d.required ? k : `${k}?`))
        .join(", ")}}`;
}

/** Words wrapped into comment lines of at most `width` characters, the first after `first`, the rest after `rest`. */
function commentLines(text: string, first: string, rest: string, width = 110): string[] {
    const lines: string[] = [];
    let line = first;
    for (const word of text.split(" ")) {
        if (line.length + word.length + 1 > width && line.trim() !== "#" && line !== first) {
            lines.push(line);
            line = rest;
        }
        line += line === first || line === rest ? word : ` ${word}`;
    }
    return [...lines, line];
}

/** The comment lines on one undeclared option (and, for objects and lists, on each of its options), at `depth`. */
function documented(key: string, d: OptionDecl, depth: number): string[] {
    const pad = `# ${"  ".repeat(depth + 1)}`;
    const what = d.kind === "list" ? `list of ${shape(d.options ?? {})}: ` : d.kind === "object" ? `${shape(d.options ?? {})}: ` : "";
    const more = [defaultWords(d), d.undeclared && `not declared: ${d.undeclared}`].filter(Boolean).join("; ");
    const text = `${key}: ${what}${shownDescription(d)}${more ? ` (${more})` : ""}`;
    const lines = commentLines(text, pad, `${pad}    `);
    for (const [k, child] of Object.entries(d.options ?? {})) lines.push(...documented(k, child, depth + 1));
    if (d.kind === "features") {
        for (const f of FEATURES)
            lines.push(...commentLines(`${f.key}: ${f.about}${f.followsTailscale ? "" : " Default true."}`, `${pad}  `, `${pad}      `));
    }
    return lines;
}

/** The whole of Pulumi.yaml, for the stack options `table` (STACK_OPTIONS; another in tests). */
export function pulumiYamlText(table: Readonly<Record<string, OptionDecl>> = STACK_OPTIONS): string {
    const config: Record<string, unknown> = {};
    const undeclared: string[] = [];
    for (const [key, d] of Object.entries(table)) {
        if (declaredInPulumiYaml(d)) {
            config[key] = {
                ...pulumiType(d),
                ...(d.default === undefined ? {} : { default: d.default }),
                description: shownDescription(d),
            };
        } else {
            undeclared.push(...documented(key, d, 0));
        }
    }
    return [
        `name: ${NAMESPACE}`,
        "description: One isolated development VM per software project on a home-lab libvirt/KVM host.",
        "runtime:",
        "  name: nodejs",
        "  options:",
        "    typescript: true",
        "main: index.ts",
        "",
        "# Generated from components/configOptions.ts by `npm run gen:pulumi-yaml`: change the declarations there, not this file.",
        "#",
        `# The project's configuration, set per host stack (Pulumi.<host>.yaml) under \`${NAMESPACE}:\`.`,
        "# Pulumi's project schema has no object type, and Pulumi treats a key declared without a default as",
        "# required (it refuses to preview a stack without it); so these keys are documented here instead of declared:",
        ...undeclared,
        "# Tailscale API credentials are the Tailscale provider's own config, as secrets:",
        "#   pulumi config set --secret tailscale:apiKey tskey-api-…   (or tailscale:oauthClientId/Secret)",
        stringify({ config }, { lineWidth: 0 }).trimEnd(),
        "",
    ].join("\n");
}
