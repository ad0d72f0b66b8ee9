// A stack file's text read as a user and as Pulumi see it: where a YAML error is, in words, and
// whether a change of the text is Pulumi's own rewriting (its salt, its formatting).
import { parse } from "yaml";

/** A config value as the Pulumi CLI passes it to the program: strings as they are, the rest as JSON. */
export function flatConfigValue(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A YAML parse error as a user reads it: where, what (a duplicated key named), and the line:
 * `line 3, column 3: the key 'memory' is given twice: "    memory: 8G"`.
 */
export function yamlErrorText(
    error: { code: string; message: string; linePos?: [{ line: number; col: number }, ...unknown[]] },
    text: string,
): string {
    const at = error.linePos?.[0];
    // The position's own words, then a colon the message may end with ("… duplicate keys: ").
    const what = error.message
        .split("\n")[0]
        .replace(/ at line \d+, column \d+:?\s*$/, "")
        .replace(/:\s*$/, "");
    if (!at) return what;
    const line = text.split(/\r?\n/)[at.line - 1] ?? "";
    const shown = JSON.stringify(line.length > 80 ? `${line.slice(0, 77)}...` : line);
    if (error.code === "DUPLICATE_KEY") {
        // A plain key ends at ": " or a final ":" (project-vms:libvirtUri is one key).
        const key = /^\s*("[^"]*"|'[^']*'|[^#]+?)\s*:(?:\s|$)/.exec(line.slice(Math.max(0, at.col - 1)))?.[1];
        if (key)
            return `line ${at.line}, column ${at.col}: the key ${key.startsWith("'") || key.startsWith('"') ? key : `'${key}'`} is given twice in one map: ${shown}`;
    }
    return `line ${at.line}, column ${at.col}: ${what}: ${shown}`;
}

/**
 * Whether stack file text `after` is `before` as Pulumi rewrites it (`pulumi stack init`, or an
 * `up` that adds the encryption salt): the same config for the program (top-level values compared
 * as the strings Pulumi hands over), nothing else changed but `encryptionsalt` and formatting.
 */
export function isPulumiRewrite(before: string, after: string): boolean {
    const read = (text: string): string | undefined => {
        try {
            const doc = parse(text.replace(/^\uFEFF/, "")) ?? {};
            if (typeof doc !== "object" || Array.isArray(doc)) return undefined;
            const { encryptionsalt: _, config, ...rest } = doc as Record<string, unknown>;
            const flat = Object.entries((config ?? {}) as Record<string, unknown>)
                .map(([k, v]) => [k, flatConfigValue(v)])
                .sort();
            return JSON.stringify([flat, Object.entries(rest).sort()]);
        } catch {
            return undefined;
        }
    };
    const a = read(before);
    return a !== undefined && a === read(after);
}
