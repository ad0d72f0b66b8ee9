// Reading typed values out of raw config while collecting problems instead of throwing: one
// problem per bad value, naming its key and showing the value, with a hint for what YAML did to
// it (an unquoted 2026.11 is a number, an unquoted 2026-11-01 a date, `no` a string here).
import type { OptionDecl, Values } from "./configOptions";
import { NAMESPACE, Size, formatSize, looksLikeSize, memoryMiB, parseSize, show } from "./validate";

/** A raw config object, as JSON-parsed from Pulumi's config. */
export type Raw = Record<string, unknown>;

/**
 * What Pulumi hands on for an unquoted YAML date such as 2026-11-01: yaml.v3 reads a time.Time,
 * which Pulumi's config turns into text with Go's Time.String(), top-level and nested alike
 * (measured with the pinned engine: test/engine/config.engine.ts).
 */
const YAML_DATE = /^(\d{4}-\d{2}-\d{2}) 00:00:00 \+0000 UTC$/;

/** YAML 1.1's booleans, which are plain strings in Pulumi's YAML: what the user meant. */
const YAML11_BOOLEANS: Record<string, boolean> = { yes: true, y: true, on: true, no: false, n: false, off: false };

/** Reads typed values from raw config, collecting problems instead of throwing. */
export class Reader {
    /** Every problem found so far, `<namespace>:<key> <text>`. */
    readonly problems: string[] = [];

    /** Adds a problem of `key` under `project-vms:`. */
    problem(key: string, text: string): void {
        this.problems.push(`${NAMESPACE}:${key} ${text}`);
    }

    /** Adds a problem of a key of another namespace, e.g. `tailscale:oauthClientId`. */
    problemAt(fullKey: string, text: string): void {
        this.problems.push(`${fullKey} ${text}`);
    }

    /** Reports keys of `obj` that are not in `known`, suggesting the closest known key. */
    unknownKeys(obj: Raw, known: readonly string[], at: string): void {
        for (const k of Object.keys(obj)) {
            if (known.includes(k)) continue;
            const near = known.find((c) => c.toLowerCase() === k.toLowerCase() || editDistance(c, k) <= 2);
            this.problem(
                at ? `${at}.${k}` : k,
                `is not a known key${near ? ` (did you mean '${near}'?)` : ""}; known: ${known.join(", ")}`,
            );
        }
    }

    /**
     * A non-empty string (trimmed), `fallback` when unset, undefined after reporting a problem.
     * `example` shows what a string of this key looks like, for a value YAML read as a number.
     */
    string(v: unknown, key: string, fallback?: string, example?: string): string | undefined {
        if (v === undefined || v === null) return fallback;
        if (typeof v === "number") {
            this.problem(
                key,
                `must be a string${example ? ` like ${show(example)}` : ""}, got the number ${show(v)}; quote it in the stack file: "${v}"`,
            );
            return undefined;
        }
        if (typeof v !== "string" || v.trim() === "") {
            this.problem(key, `must be a non-empty string, got ${show(v)}`);
            return undefined;
        }
        const date = YAML_DATE.exec(v);
        if (date) {
            this.problem(key, `is ${date[1]} written without quotes, which YAML reads as a date; quote it: "${date[1]}"`);
            return undefined;
        }
        return v.trim();
    }

    /** true or false (also as the strings "true"/"false"), `fallback` when unset, undefined after a problem. */
    boolean(v: unknown, key: string, fallback: boolean | undefined): boolean | undefined {
        if (v === undefined || v === null) return fallback;
        if (typeof v === "boolean") return v;
        if (v === "true" || v === "false") return v === "true";
        const meant = typeof v === "string" ? YAML11_BOOLEANS[v.toLowerCase()] : undefined;
        const hint = meant === undefined ? "" : ` (YAML 1.1's yes/no/on/off are plain strings here: write ${meant})`;
        this.problem(key, `must be true or false, got ${show(v)}${hint}`);
        return undefined;
    }

    /** A whole number within `range`, `fallback` when unset, undefined after a problem. */
    integer(v: unknown, key: string, fallback: number | undefined, range: { min: number; max: number }, unit: string): number | undefined {
        if (v === undefined || v === null) return fallback;
        const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
        if (typeof n !== "number" || !Number.isInteger(n)) {
            this.problem(key, `must be a whole number${unit}, got ${show(v)}`);
            return undefined;
        }
        if (n < range.min || n > range.max) {
            this.problem(key, `is ${show(n)}${unit}; it must be between ${range.min} and ${range.max}`);
            return undefined;
        }
        return n;
    }

    /** Memory in MiB within `range` (see memoryMiB: `8192` or `8G`), `fallback` when unset, undefined after a problem. */
    memory(v: unknown, key: string, fallback: number | undefined, range: { min: number; max: number }): number | undefined {
        if (v === undefined || v === null) return fallback;
        const n = memoryMiB(v);
        if (n === undefined) {
            this.problem(key, `must be MiB (e.g. 8192) or a size with a unit (e.g. 8G), got ${show(v)}`);
            return undefined;
        }
        if (n < range.min || n > range.max) {
            this.problem(
                key,
                `is ${show(v)}${typeof v === "string" && !/^\s*\d+\s*$/.test(v) ? ` (${n} MiB)` : " MiB"}; it must be between ${range.min} and ${range.max} MiB`,
            );
            return undefined;
        }
        return n;
    }

    /** A size within `range` (bytes), the size of `fallback` when unset, undefined after a problem. */
    size(v: unknown, key: string, fallback: string, range: { min: number; max: number }): Size | undefined {
        const text = v === undefined || v === null ? fallback : v;
        const size = typeof text === "string" ? parseSize(text) : undefined;
        if (!size) {
            if (typeof text === "string" && looksLikeSize(text)) {
                this.problem(key, `${show(text)} is too large; at most ${formatSize(range.max)}`);
            } else {
                const hint = typeof text === "number" ? " (a number needs a unit)" : "";
                this.problem(key, `must be a size with a unit K, M, G or T (binary: 100G = 100 GiB), got ${show(v)}${hint}`);
            }
            return undefined;
        }
        if (size.bytes > range.max) {
            this.problem(key, `${show(size.text)} is too large; at most ${formatSize(range.max)}`);
            return undefined;
        }
        if (size.bytes < range.min) {
            this.problem(key, `is ${show(size.text)}; it must be between ${formatSize(range.min)} and ${formatSize(range.max)}`);
            return undefined;
        }
        return size;
    }

    /** An object (a YAML mapping), undefined when unset or after a problem. */
    object(v: unknown, key: string): Raw | undefined {
        if (v === undefined || v === null) return undefined;
        if (typeof v !== "object" || Array.isArray(v)) {
            this.problem(key, `must be an object (a YAML mapping), got ${show(v)}`);
            return undefined;
        }
        return v as Raw;
    }

    /** A list, undefined when unset or after a problem. */
    array(v: unknown, key: string): unknown[] | undefined {
        if (v === undefined || v === null) return undefined;
        if (!Array.isArray(v)) {
            this.problem(key, `must be a list, got ${show(v)}`);
            return undefined;
        }
        return v;
    }
}

/** What readOptions reads from, and where. */
export interface ReadOptionsArgs<T extends Record<string, OptionDecl>> {
    /** The mapping the options are set in (a stack's raw config, a project entry, …). */
    from: Raw;
    /** The declarations (see configOptions.ts). */
    table: T;
    /** The key path of `from` as messages show it (`projects[0]`), or "" for the stack's own keys. */
    at: string;
    /** The values of options whose default is another value (`inherits`), already read. */
    inherited?: { [K in keyof T]?: unknown };
    /** Checks of strings that need other values (after the declaration's own): the problem text after the key, or undefined. */
    checks?: { [K in keyof T]?: (value: string) => string | undefined };
}

/**
 * Reads the plain options of a table — strings, booleans, whole numbers, memory and sizes — in
 * declaration order: each its default (or its inherited value) when unset, its limits and check
 * applied, undefined after a problem. Lists, objects, features and the options that are part of
 * another are left to their sections.
 */
export function readOptions<T extends Record<string, OptionDecl>>(r: Reader, args: ReadOptionsArgs<T>): Partial<Values<T>> {
    const out: Record<string, unknown> = {};
    for (const [k, d] of Object.entries(args.table)) {
        if (d.partOf !== undefined) continue;
        const key = args.at ? `${args.at}.${k}` : k;
        const v = args.from[k];
        const inherited = args.inherited && k in args.inherited;
        if (inherited && (v === undefined || v === null)) {
            out[k] = args.inherited![k];
            continue;
        }
        const fallback = d.default as never;
        switch (d.kind) {
            case "string": {
                const s = r.string(v, key, fallback, d.example);
                const problem = s === undefined ? undefined : (d.check?.(s) ?? args.checks?.[k]?.(s));
                if (problem) r.problem(key, problem);
                out[k] = s;
                break;
            }
            case "boolean":
                out[k] = r.boolean(v, key, fallback);
                break;
            case "integer":
                out[k] = r.integer(v, key, fallback, d.limits!, d.unit ?? "");
                break;
            case "memory":
                out[k] = r.memory(v, key, fallback, d.limits!);
                break;
            case "size":
                out[k] = fallback === undefined && (v === undefined || v === null) ? undefined : r.size(v, key, fallback, d.limits!);
                break;
            default:
                break;
        }
    }
    return out as Partial<Values<T>>;
}

function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
    }
    return d[a.length][b.length];
}
