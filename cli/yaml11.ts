// The CLI reads and writes stack files with the `yaml` package (YAML 1.2); Pulumi reads them with
// Go's gopkg.in/yaml.v3, which still resolves some YAML 1.1 forms: `010000` is octal 4096,
// `0b101` is 5, `1_000` is 1000, `2026-01-01` is a timestamp (Pulumi stores it as
// "2026-01-01 00:00:00 +0000 UTC"), and `.inf`/`.nan` cannot be stored by Pulumi at all. So:
//  - every string the CLI writes that some reader could take for anything but that string
//    (YAML 1.2, YAML 1.1, or yaml.v3) is written quoted;
//  - a plain value already in the file that yaml.v3 or a YAML 1.1 reader reads otherwise than
//    YAML 1.2 does is refused, naming the key and both readings, until it is written unambiguously.
import { isMap, isPair, isScalar, isSeq, Node, parse, Scalar, visit, Document } from "yaml";

/** A timestamp as yaml.v3 reads it (into an interface{}: a Go time.Time). */
export class Timestamp {
    constructor(readonly text: string) {}
    toString(): string {
        return `timestamp ${this.text}`;
    }
}

/** yaml.v3's plain-scalar values that it looks up by name (resolve.go). */
const V3_NAMED: Record<string, unknown> = {
    true: true,
    True: true,
    TRUE: true,
    false: false,
    False: false,
    FALSE: false,
    "": null,
    "~": null,
    null: null,
    Null: null,
    NULL: null,
    ".nan": NaN,
    ".NaN": NaN,
    ".NAN": NaN,
    ".inf": Infinity,
    ".Inf": Infinity,
    ".INF": Infinity,
    "+.inf": Infinity,
    "+.Inf": Infinity,
    "+.INF": Infinity,
    "-.inf": -Infinity,
    "-.Inf": -Infinity,
    "-.INF": -Infinity,
};

/** Go's strconv.ParseInt(s, 0, 64) / ParseUint: sign, then 0x, 0o, 0b, a leading 0 (octal) or decimal. */
function goParseInt(s: string): number | undefined {
    const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
    if (!m) return undefined;
    const digits = m[2];
    let n: bigint;
    if (/^0[xXoObB]/.test(digits)) n = BigInt(digits.toLowerCase());
    else if (digits.length > 1 && digits[0] === "0") n = BigInt(`0o${digits.slice(1)}`);
    else n = BigInt(digits);
    if (m[1] === "-") n = -n;
    if (n < -(2n ** 63n) || n >= 2n ** 64n) return undefined;
    return Number(n);
}

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/** Go's strconv.ParseFloat as yaml.v3 uses it: out of range (1e400) is an error, and the scalar stays a string. */
function goFloat(s: string): number | undefined {
    const n = Number(s);
    return Number.isFinite(n) ? n : undefined;
}

/** yaml.v3's timestamp forms (2006-1-2, with a time after T, t or a space); the date must exist. */
function v3Timestamp(s: string): boolean {
    const m =
        /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt]\d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?(?:Z|[-+]\d{2}:\d{2})| \d{1,2}:\d{1,2}:\d{1,2}(?:\.\d+)?)?$/.exec(
            s,
        );
    if (!m) return false;
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    // (setUTCFullYear, not Date.UTC: that takes years 0 to 99 for 1900 to 1999.)
    const date = new Date(0);
    date.setUTCFullYear(y, mo - 1, d);
    return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * What yaml.v3 makes of a plain (unquoted, untagged) scalar decoded into an interface{}: a port of
 * its resolve(). Strings stay strings; a Timestamp for a time.Time.
 */
export function v3Resolve(s: string): unknown {
    if (Object.prototype.hasOwnProperty.call(V3_NAMED, s)) return V3_NAMED[s];
    const hint = s[0];
    if (hint === ".") {
        return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s) ? (goFloat(s) ?? s) : s;
    }
    if (/^[-+0-9]$/.test(hint)) {
        if (v3Timestamp(s)) return new Timestamp(s);
        const plain = s.replace(/_/g, "");
        const int = goParseInt(plain);
        if (int !== undefined) return int;
        if (YAML_STYLE_FLOAT.test(plain)) return goFloat(plain) ?? s;
        return s;
    }
    return s;
}

/** A plain scalar as a YAML 1.1 reader (the `yaml` package's yaml-1.1 schema) reads it. */
function yaml11(s: string): unknown {
    try {
        return parse(s, { version: "1.1" });
    } catch {
        return s;
    }
}

/** A plain scalar as YAML 1.2 (the core schema: what the CLI reads) reads it. */
function yaml12(s: string): unknown {
    try {
        return parse(s);
    } catch {
        return s;
    }
}

function same(a: unknown, b: unknown): boolean {
    if (typeof a === "number" && typeof b === "number") return a === b || (Number.isNaN(a) && Number.isNaN(b));
    if (a instanceof Date || b instanceof Date || a instanceof Timestamp || b instanceof Timestamp) return false;
    return a === b;
}

/** How a value is shown in a message. */
export function showReading(v: unknown): string {
    if (v === null) return "null";
    if (typeof v === "string") return JSON.stringify(v);
    if (v instanceof Date) return `timestamp ${v.toISOString()}`;
    if (typeof v === "number") return Number.isNaN(v) ? "NaN (not a number)" : Number.isFinite(v) ? String(v) : `${v} (infinity)`;
    return String(v);
}

/** Whether a string, written plain, would be read as anything but itself by YAML 1.2, YAML 1.1 or yaml.v3. */
export function needsQuotes(s: string): boolean {
    return !same(yaml12(s), s) || !same(yaml11(s), s) || !same(v3Resolve(s), s);
}

/** A string as a scalar node that every reader reads as that string: quoted when it needs it. */
export function stringNode(s: string): Scalar {
    const node = new Scalar(s);
    if (needsQuotes(s)) node.type = Scalar.QUOTE_DOUBLE;
    return node;
}

/** A key path as the messages show it: `project-vms:projects[0].memory`. */
function showPath(path: (string | number)[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/**
 * The values of the document's `config:` that Pulumi (yaml.v3) and the CLI (YAML 1.2) would read
 * differently, or that a YAML 1.1 reader reads otherwise, or that Pulumi cannot store (.inf, .nan),
 * and the keys given no value: one problem each, naming the key and the readings.
 */
export function readingProblems(doc: Document): string[] {
    const config = doc.get("config", true);
    if (!isMap(config)) return [];
    const problems: string[] = [];
    const walk = (node: unknown, at: (string | number)[]) => {
        if (isMap(node)) {
            for (const pair of node.items) {
                if (!isPair(pair)) continue;
                const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
                walk(pair.value, [...at, key]);
            }
        } else if (isSeq(node)) {
            node.items.forEach((item, i) => walk(item, [...at, i]));
        } else if (isScalar(node)) {
            const where = showPath(at);
            const source = (node as Scalar & { source?: string }).source;
            if (typeof node.value === "number" && !Number.isFinite(node.value)) {
                problems.push(
                    `${where}: ${source ?? showReading(node.value)} is not a finite number, which Pulumi cannot store (it fails to load the stack file); write a number, or quote it if it is text`,
                );
                return;
            }
            if (node.type !== Scalar.PLAIN || node.tag || typeof source !== "string" || source.includes("\n")) return;
            const v12 = node.value;
            const v3 = v3Resolve(source);
            const v11 = yaml11(source);
            const readers = !same(v3, v12)
                ? `Pulumi (yaml.v3) reads ${showReading(v3)}`
                : !same(v11, v12)
                  ? `a YAML 1.1 reader reads ${showReading(v11)}`
                  : undefined;
            if (readers) {
                problems.push(
                    `${where}: ${source} is ambiguous: YAML 1.2 (project-vm) reads ${showReading(v12)}, ${readers}; ` +
                        `write it unambiguously (${typeof v12 === "string" ? `quoted: "${source}"` : `e.g. ${showReading(v12)}, or quoted if it is text`})`,
                );
            }
        }
    };
    for (const pair of config.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        // Pulumi hands a key without a value (`key:`, `~`, `null`) to the program as "" (and says
        // a later version will hand null): neither is the default the CLI would otherwise assume.
        if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) {
            problems.push(
                `${key} has no value, which Pulumi hands the program as "" (not its default); give it a value, or remove the line`,
            );
        } else walk(pair.value, [key]);
    }
    return problems;
}

/** Every string scalar in the document that needs quotes gets them (for nodes the CLI made). */
export function quoteAmbiguous(node: Node): void {
    visit(node, {
        Scalar(_key, n) {
            if (typeof n.value === "string" && n.type !== Scalar.QUOTE_DOUBLE && n.type !== Scalar.QUOTE_SINGLE && needsQuotes(n.value)) {
                n.type = Scalar.QUOTE_DOUBLE;
            }
        },
    });
}
