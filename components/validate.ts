// The primitives of config validation: pure checks of one value each — sizes, names, SSH keys,
// paths, URIs, networks and the Tailscale API's settings. Each `…Problem` function returns why a
// value is refused (a phrase that follows the key and the value), or undefined when it is fine.
// Allow-lists, not deny-lists: these values reach libvirt XML, virsh and curl on the host.
import * as path from "node:path";

/** The config namespace: the Pulumi project name; also the prefix of every host-level libvirt name. */
export const NAMESPACE = "project-vms";

/** Name of the pool folder under storageDir that holds the base images (the pool is `project-vms-base`). */
export const BASE_POOL_DIR = "base";

/**
 * How a message shows a value: JSON, with everything outside printable ASCII as a \u escape (so
 * lookalikes and control characters are visible).
 */
export function show(v: unknown): string {
    return (JSON.stringify(v) ?? String(v)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

// ---- sizes ----

/** A size given with a binary unit suffix, e.g. `100G` (= 100 GiB). */
export interface Size {
    /** As written in the config, e.g. `100G`. */
    text: string;
    /** In bytes. */
    bytes: number;
}

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
const SIZE = /^\s*(\d+)\s*([KMGT])(?:i?B)?\s*$/i;

/** Parses `100G`, `512M`, `2T`, `100GiB` (binary units). Returns undefined when it is not a size (or too large to count). */
export function parseSize(text: string): Size | undefined {
    const m = SIZE.exec(text);
    if (!m) return undefined;
    const bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
    return Number.isSafeInteger(bytes) ? { text: text.trim(), bytes } : undefined;
}

/**
 * Memory as the stack file and the CLI both take it: a whole number of MiB (`8192`, or `"8192"`),
 * or a size with a unit that is a whole number of MiB (`8G`, `512M`). Undefined when it is neither.
 */
export function memoryMiB(v: unknown): number | undefined {
    if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
    if (typeof v !== "string") return undefined;
    if (/^\s*\d+\s*$/.test(v)) return Number(v);
    const size = parseSize(v);
    return size && size.bytes % 1024 ** 2 === 0 ? size.bytes / 1024 ** 2 : undefined;
}

/** Whether `text` is written as a size (digits and a unit), whatever its magnitude. */
export function looksLikeSize(text: string): boolean {
    return SIZE.test(text);
}

/** `107374182400` → `100G`; the largest binary unit that divides the size. */
export function formatSize(bytes: number): string {
    for (const u of ["T", "G", "M", "K"]) {
        if (bytes % UNITS[u] === 0) return `${bytes / UNITS[u]}${u}`;
    }
    return `${bytes}B`;
}

// ---- names ----

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** `project-<name>` must be a hostname label of at most 63 characters. */
export const NAME_MAX_LENGTH = 63 - "project-".length;

/** `project-<name>`: one name for the domain, the pool, the guest hostname and the tailnet machine. */
export function hostnameOf(name: string): string {
    return `project-${name}`;
}

/** Names a project cannot have: folders of the host's own under storageDir. */
export const RESERVED_NAMES = [BASE_POOL_DIR] as const;

/** Why `name` cannot be a project name, or undefined when it can. */
export function projectNameProblem(name: string): string | undefined {
    if ((RESERVED_NAMES as readonly string[]).includes(name)) {
        return `is reserved (${RESERVED_NAMES.join(", ")}: the host keeps its own files there)`;
    }
    if (!DNS_LABEL.test(name)) {
        return "must be a DNS label: lowercase letters, digits and hyphens, starting and ending with a letter or digit";
    }
    if (name.length > NAME_MAX_LENGTH) {
        return `is ${name.length} characters; at most ${NAME_MAX_LENGTH}, so that '${hostnameOf(name)}' fits a 63-character hostname`;
    }
    const host = hostnameOf(name);
    if (host === NAMESPACE || host.startsWith(`${NAMESPACE}-`)) {
        return `is reserved: '${NAMESPACE}' and '${NAMESPACE}-…' name the host's own pool and network (${NAMESPACE}-${BASE_POOL_DIR}, ${NAMESPACE}), so a project may not be 'vms' or start with 'vms-'`;
    }
    return undefined;
}

/** Why `name` cannot name a Linux interface the program creates or attaches to, or undefined. */
export function interfaceNameProblem(name: string): string | undefined {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/.test(name))
        return "is not a Linux interface name (letters, digits, _ . -, at most 15 characters)";
    if (["lo", "all", "default"].includes(name)) return "is reserved by the kernel (the loopback interface or a sysctl name)";
    return undefined;
}

/** Why `t` is not a tailnet's MagicDNS name (DNS labels, at least two), or undefined. */
export function tailnetProblem(t: string): string | undefined {
    const labels = t.split(".");
    const ok = labels.length >= 2 && labels.every((l) => DNS_LABEL.test(l) && l.length <= 63) && t.length <= 253;
    return ok ? undefined : "must be the tailnet's DNS name (lowercase letters, digits, hyphens and dots), e.g. bat-boa.ts.net";
}

// ---- SSH keys ----

const KEY_TYPES = new Set([
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
]);

/** C0 and C1 control characters, DEL, and Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex -- control characters are what this pattern finds
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The first control character of `s`, described (`U+000A, a line break`), or undefined. */
export function controlCharacter(s: string): string | undefined {
    const m = CONTROL.exec(s);
    if (!m) return undefined;
    const code = m[0].charCodeAt(0);
    const what = [0x0a, 0x0d, 0x2028, 0x2029, 0x85].includes(code) ? ", a line break" : code === 9 ? ", a tab" : "";
    return `U+${code.toString(16).toUpperCase().padStart(4, "0")}${what} at position ${m.index}`;
}

/**
 * Why `line` is not an OpenSSH public key line (`<type> <base64> [comment]`), or undefined when it
 * is one: one line without control characters and without options, a known type, and a base64
 * blob that decodes to a key of that same type.
 */
export function publicKeyProblem(line: string): string | undefined {
    if (/PRIVATE KEY/.test(line)) return "is a private key; give the public key (the .pub file)";
    const control = controlCharacter(line);
    if (control)
        return `contains a control character (${control}): a key is one line, and a second line would be a second authorized_keys entry`;
    const parts = line.trim().split(/ +/);
    if (parts.length < 2) return "is not '<type> <base64> [comment]'";
    const [type, blob] = parts;
    if (!KEY_TYPES.has(type)) {
        const options =
            /[=",]/.test(type) ||
            /^(no-|restrict|cert-authority|permitopen|from|command|environment|tunnel|principals|expiry-time)/.test(type);
        return options
            ? `starts with authorized_keys options (${show(type.slice(0, 40))}); give only '<type> <base64> [comment]'`
            : `has unknown key type ${show(type)}; known: ${[...KEY_TYPES].join(", ")}`;
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob) || blob.length % 4 !== 0) return "has a key blob that is not base64";
    const raw = Buffer.from(blob, "base64");
    const len = raw.length >= 4 ? raw.readUInt32BE(0) : -1;
    if (len < 0 || 4 + len >= raw.length || raw.subarray(4, 4 + len).toString("latin1") !== type) {
        return `has a key blob that is not a ${type} key`;
    }
    return undefined;
}

// ---- paths ----

/** Characters a host path may have: safe in libvirt XML, in a shell word and in a URL path as they are. */
export const SAFE_PATH = /^\/[A-Za-z0-9._/-]*$/;

/** Folders that must not be the storage folder themselves. */
export const SYSTEM_DIRS = [
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/home",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/media",
    "/mnt",
    "/nix",
    "/opt",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/srv",
    "/sys",
    "/tmp",
    "/usr",
    "/usr/lib",
    "/usr/local",
    "/var",
    "/var/lib",
    "/var/tmp",
    "/var/run",
] as const;

/** Trees whose content is virtual, read-only or gone at the next boot: no project disk may live there. */
// (/var/lock is a link to /run/lock on Debian and NixOS: in memory, gone at reboot.)
const VOLATILE_TREES = ["/dev", "/proc", "/sys", "/run", "/tmp", "/var/run", "/var/lock", "/var/tmp", "/nix/store"];

/** Why `p` is not an absolute, normalised path of safe characters, or undefined. */
export function safePathProblem(p: string): string | undefined {
    if (!p.startsWith("/")) return "must be an absolute path";
    const control = controlCharacter(p);
    if (control) return `contains a control character (${control})`;
    if (!SAFE_PATH.test(p)) return "may only contain letters, digits and . _ - / (it goes into libvirt XML and host commands as it is)";
    const segments = p.split("/").slice(1);
    if (segments.some((s) => s === "..")) return "must not contain '..'";
    if (segments.some((s) => s.startsWith("-"))) return "must not have a part starting with '-'";
    if (p !== "/" && p !== path.posix.normalize(p).replace(/\/$/, "")) return "must be normalised (no '//', '/./' or trailing '/')";
    return undefined;
}

/** Why `dir` cannot be the storage folder (which holds every project disk), or undefined. */
export function storageDirProblem(dir: string): string | undefined {
    const problem = safePathProblem(dir);
    if (problem) return problem;
    if ((SYSTEM_DIRS as readonly string[]).includes(dir)) return "is a system folder; give a folder of its own, e.g. /var/lib/project-vms";
    const volatile = VOLATILE_TREES.find((t) => dir === t || dir.startsWith(`${t}/`));
    if (volatile) return `is under ${volatile}, which is virtual, read-only or emptied at boot: project disks would be lost`;
    return undefined;
}

/** Whether `value` can be put into XML (and a shell word) as it is: a safe path or name. Checked again where pool XML is made. */
export function xmlSafe(value: string): boolean {
    return /^[A-Za-z0-9._/-]+$/.test(value) && !value.split("/").includes("..");
}

// ---- URIs and URLs ----

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/**
 * Why `uri` is not one of the libvirt URIs the README documents, or undefined: `qemu:///system`,
 * `qemu:///session`, `qemu+ssh://[user@]host/system|session`. No port (the provider mishandles
 * one), no `?parameters` (`command=`, `socket=`, `no_verify=` and the like run other programs,
 * reach other sockets or skip host-key checks) and no other transport (`ext`, `tcp` are unsafe).
 */
export function libvirtUriProblem(uri: string): string | undefined {
    const refuse =
        "must be qemu:///system, qemu:///session or qemu+ssh://[user@]host/system (or /session), " + "without a port or ?parameters";
    if (uri === "qemu:///system" || uri === "qemu:///session") return undefined;
    const m = /^qemu\+ssh:\/\/(?:([^@/]*)@)?([^/:?#]*)\/(system|session)$/.exec(uri);
    if (!m) {
        if (/[?#]/.test(uri)) return `${refuse}: parameters can run commands, reach other sockets or skip host-key checks`;
        if (/^qemu\+ssh:\/\/[^/]*:\d*\//.test(uri))
            return `${refuse}: the libvirt provider mishandles an explicit port (use port 22 or an ~/.ssh/config Host entry)`;
        return refuse;
    }
    if (m[1] !== undefined && !USER.test(m[1])) return `${refuse}: the user must be letters, digits, _ . - (not starting with - or .)`;
    if (!HOST.test(m[2]) || m[2].length > 253) return `${refuse}: the host must be a host name or IPv4 address`;
    return undefined;
}

/** Characters an image URL may have: unreserved, and the delimiters a query needs; no quotes, spaces, `$`, `(`, `;`, `|`, backquotes. */
const URL_CHARS = /^[A-Za-z0-9._~:/?#@!&+,=%-]+$/;

/**
 * Why `url` cannot be a base image's location, or undefined: an https URL, or an absolute path
 * (also as `file://`) on the machine running Pulumi. Plain http is refused: nothing checks what
 * is downloaded, and every VM boots from it.
 */
export function imageLocationProblem(url: string, sha512?: string): string | undefined {
    const control = controlCharacter(url);
    if (control) return `contains a control character (${control})`;
    if (/^http:\/\//i.test(url) && !sha512)
        return "is a plain http:// URL without a sha512, which anyone on the way can change; use an https:// URL, a local path, or give its sha512";
    if (/^https?:\/\//i.test(url)) {
        const m = /^https?:\/\/([^/?#]+)(.*)$/i.exec(url);
        const host = m?.[1].replace(/:\d{1,5}$/, "");
        if (!m || !URL_CHARS.test(url) || !host || !HOST.test(host))
            return "must be an https:// URL of plain characters (letters, digits, . _ ~ : / ? # @ ! & + , = % -) or a local path";
        if (!sha512 && !debianSumsUrl(url)) {
            return "is not a cloud.debian.org image (whose SHA512SUMS the program reads), so it needs its sha512 in the config";
        }
        return undefined;
    }
    const local = url.startsWith("file://") ? url.slice("file://".length) : url;
    if (!local.startsWith("/")) return "must be an https:// URL or an absolute path (or file:///path) of a qcow2 image";
    const problem = safePathProblem(local);
    return problem ? `is a local path that ${problem}` : undefined;
}

/**
 * The `SHA512SUMS` beside an official Debian cloud image (`https://cloud.debian.org/images/cloud/…`),
 * from which its SHA-512 is read when the config gives none; undefined for any other location.
 */
export function debianSumsUrl(url: string): string | undefined {
    const m = /^(https:\/\/cloud\.debian\.org\/images\/cloud\/(?:[A-Za-z0-9._-]+\/)+)[A-Za-z0-9._-]+\.qcow2$/.exec(url);
    return m ? `${m[1]}SHA512SUMS` : undefined;
}

/** A SHA-512 as the config gives it: 128 hex digits (either case); the problem, if not. */
export function sha512Problem(v: string): string | undefined {
    return /^[0-9a-fA-F]{128}$/.test(v) ? undefined : "must be the image's SHA-512: 128 hexadecimal digits (sha512sum prints it)";
}

// ---- networks ----

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Ranges a VM network must not overlap: not routable to or from a LAN of guests. */
const SPECIAL_RANGES: Array<[string, number, string]> = [
    ["0.0.0.0", 8, "the unspecified range 0.0.0.0/8"],
    ["127.0.0.0", 8, "the loopback range 127.0.0.0/8"],
    ["169.254.0.0", 16, "the link-local range 169.254.0.0/16"],
    ["224.0.0.0", 4, "the multicast range 224.0.0.0/4"],
    ["240.0.0.0", 4, "the reserved and broadcast range 240.0.0.0/4"],
];

function ipv4(text: string): number {
    return text.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/**
 * Why `cidr` cannot be the program's own NAT network, or undefined: a network address (host bits
 * zero) with a prefix of /8 to /29, outside the special ranges, with room for `guests` addresses
 * besides the network and broadcast addresses and the host's gateway.
 */
export function cidrProblem(cidr: string, guests: number): string | undefined {
    const m = IPV4_CIDR.exec(cidr);
    const octets = m?.slice(1, 5) ?? [];
    if (!m || octets.some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith("0"))) || Number(m[5]) < 8 || Number(m[5]) > 29) {
        return "must be an IPv4 CIDR with a prefix of /8 to /29 and no leading zeros, e.g. 10.17.0.0/24";
    }
    const prefix = Number(m[5]);
    const size = 2 ** (32 - prefix);
    const start = ipv4(octets.join("."));
    if (start % size !== 0)
        return `has host bits set; the network address is ${[24, 16, 8, 0].map((s) => Math.floor((start - (start % size)) / 2 ** s) % 256).join(".")}/${prefix}`;
    for (const [base, bits, what] of SPECIAL_RANGES) {
        const b = ipv4(base);
        const bsize = 2 ** (32 - bits);
        if (start < b + bsize && b < start + size) return `overlaps ${what}; use a private range such as 10.17.0.0/24 or 192.168.150.0/24`;
    }
    const room = size - 3;
    if (guests > room)
        return `has room for ${room} VMs (besides the network, broadcast and gateway addresses), but the stack has ${guests} projects; use a shorter prefix`;
    return undefined;
}

// ---- the Tailscale API (the Tailscale provider's own config) ----

/** Tailscale credentials: API keys, OAuth client IDs and secrets are letters, digits, `-` and `_`. */
const CREDENTIAL = /^[A-Za-z0-9_-]{1,256}$/;

/** Why a Tailscale credential is refused, never showing it: undefined when it is fine. */
export function credentialProblem(value: string): string | undefined {
    return CREDENTIAL.test(value)
        ? undefined
        : "is malformed (Tailscale credentials are letters, digits, '-' and '_'); its value is secret and not shown";
}

/** Why `t` cannot be the Tailscale API's tailnet (`-`, an organisation such as example.com, or a tailnet ID), or undefined. */
export function apiTailnetProblem(t: string): string | undefined {
    return t === "-" || /^[A-Za-z0-9][A-Za-z0-9._@-]{0,252}$/.test(t)
        ? undefined
        : "must be '-' (the credentials' own tailnet) or the tailnet's name: letters, digits and . _ @ -";
}

/**
 * Why `url` cannot be the Tailscale API's address, or undefined: https (http only to this machine,
 * for tests), a host, an optional port and path.
 */
export function apiBaseUrlProblem(url: string): string | undefined {
    const m = /^(https?):\/\/([A-Za-z0-9.-]+|\[::1\])(?::(\d{1,5}))?(\/[A-Za-z0-9._~/-]*)?$/.exec(url);
    if (!m || !(HOST.test(m[2]) || m[2] === "[::1]"))
        return "must be an https:// URL: a host, an optional port and path, e.g. https://api.tailscale.com";
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(m[2]);
    if (m[1] === "http" && !loopback) return "is plain http, which would send the Tailscale credentials in the clear; use https://";
    return undefined;
}
