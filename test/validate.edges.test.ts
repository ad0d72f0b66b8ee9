// Config validation at its edges: each check one step either side of its limit (name lengths,
// prefixes, sizes, hex digits), names that are a prefix or suffix of a refused one, and the exact
// phrase a user reads after the key and value.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
    apiBaseUrlProblem,
    apiTailnetProblem,
    cidrProblem,
    controlCharacter,
    credentialProblem,
    debianSumsUrl,
    formatSize,
    hostnameOf,
    imageLocationProblem,
    interfaceNameProblem,
    libvirtUriProblem,
    looksLikeSize,
    memoryMiB,
    NAME_MAX_LENGTH,
    parseSize,
    projectNameProblem,
    publicKeyProblem,
    safePathProblem,
    sha512Problem,
    show,
    storageDirProblem,
    tailnetProblem,
    xmlSafe,
} from "../components/validate";

const ok = undefined;

test("how a value is shown: JSON, anything outside printable ASCII as a four-digit \\u escape", () => {
    assert.equal(show("a b"), '"a b"');
    assert.equal(show("é"), '"\\u00e9"');
    assert.equal(show("\u2028"), '"\\u2028"');
    assert.equal(show("~"), '"~"', "the last printable character stays");
    assert.equal(show("\u007f"), '"\\u007f"');
    assert.equal(show(undefined), "undefined");
    assert.equal(show(12), "12");
});

test("sizes: units, spacing and case; the largest safe size and one unit past it", () => {
    assert.deepEqual(parseSize("100G"), { text: "100G", bytes: 100 * 1024 ** 3 });
    assert.deepEqual(parseSize(" 100 GiB "), { text: "100 GiB", bytes: 100 * 1024 ** 3 });
    assert.deepEqual(parseSize("512mb"), { text: "512mb", bytes: 512 * 1024 ** 2 });
    assert.deepEqual(parseSize("1K"), { text: "1K", bytes: 1024 });
    assert.deepEqual(parseSize("100Gb "), { text: "100Gb", bytes: 100 * 1024 ** 3 }, "the B in either case");
    assert.deepEqual(parseSize("2T"), { text: "2T", bytes: 2 * 1024 ** 4 });
    assert.deepEqual(parseSize("8191T"), { text: "8191T", bytes: 8191 * 1024 ** 4 });
    assert.equal(parseSize("8192T"), undefined, "2^53 bytes: too large to count exactly");
    for (const bad of ["100", "G", "100P", "1.5G", "-1G", "100 G B", "100GiiB", "x100G", "100Gx", "100 iB", "100GB B"])
        assert.equal(parseSize(bad), undefined, bad);
    assert.ok(looksLikeSize("99999999T"), "written as a size, whatever its magnitude");
    assert.ok(!looksLikeSize("99999999"));
    assert.equal(memoryMiB(8192), 8192);
    assert.equal(memoryMiB(8192.5), undefined);
    assert.equal(memoryMiB("8192"), 8192);
    assert.equal(memoryMiB(" 8192 "), 8192);
    assert.equal(memoryMiB("8G"), 8192);
    assert.equal(memoryMiB("512M"), 512);
    assert.equal(memoryMiB("1024K"), 1);
    assert.equal(memoryMiB("1536K"), undefined, "not a whole number of MiB");
    assert.equal(memoryMiB("8x"), undefined);
    assert.equal(memoryMiB("x8192"), undefined, "digits only at the end are not a number of MiB");
    assert.equal(memoryMiB(true), undefined);
    assert.equal(memoryMiB(undefined), undefined);
    assert.equal(formatSize(100 * 1024 ** 3), "100G");
    assert.equal(formatSize(1024 ** 4), "1T");
    assert.equal(formatSize(1536 * 1024 ** 2), "1536M");
    assert.equal(formatSize(3 * 1024), "3K");
    assert.equal(formatSize(1536), "1536B");
});

test("project names: at most NAME_MAX_LENGTH, DNS labels, not reserved, and 'vms' only as a whole or a prefix", () => {
    assert.equal(NAME_MAX_LENGTH, 55);
    assert.equal(hostnameOf("webapp"), "project-webapp");
    assert.equal(projectNameProblem("a".repeat(55)), ok);
    assert.equal(
        projectNameProblem("a".repeat(56)),
        `is 56 characters; at most 55, so that 'project-${"a".repeat(56)}' fits a 63-character hostname`,
    );
    assert.equal(projectNameProblem("base"), "is reserved (base: the host keeps its own files there)");
    for (const fine of ["a", "0", "a-b", "base1", "abase", "vmsx", "x-vms", "vm", "vms1"]) assert.equal(projectNameProblem(fine), ok, fine);
    const dns = "must be a DNS label: lowercase letters, digits and hyphens, starting and ending with a letter or digit";
    for (const bad of ["", "-a", "a-", "A", "a_b", "a.b", "a b"]) assert.equal(projectNameProblem(bad), dns, JSON.stringify(bad));
    const vms =
        "is reserved: 'project-vms' and 'project-vms-…' name the host's own pool and network (project-vms-base, project-vms), so a project may not be 'vms' or start with 'vms-'";
    assert.equal(projectNameProblem("vms"), vms);
    assert.equal(projectNameProblem("vms-x"), vms);
});

test("interface names: up to 15 characters, not the kernel's own names", () => {
    const bad = "is not a Linux interface name (letters, digits, _ . -, at most 15 characters)";
    assert.equal(interfaceNameProblem("a".repeat(15)), ok);
    assert.equal(interfaceNameProblem("a".repeat(16)), bad);
    for (const fine of ["br0", "virbr0.10", "Br_lan-1", "0", "lo0", "alls", "defaults"]) assert.equal(interfaceNameProblem(fine), ok, fine);
    for (const b of ["", "_a", ".a", "-a", "a b", "a/b", "a:b"]) assert.equal(interfaceNameProblem(b), bad, JSON.stringify(b));
    for (const r of ["lo", "all", "default"])
        assert.equal(interfaceNameProblem(r), "is reserved by the kernel (the loopback interface or a sysctl name)");
});

test("tailnet names: two DNS labels or more, 63 a label, 253 in all", () => {
    const bad = "must be the tailnet's DNS name (lowercase letters, digits, hyphens and dots), e.g. bat-boa.ts.net";
    assert.equal(tailnetProblem("bat-boa.ts.net"), ok);
    assert.equal(tailnetProblem("a.b"), ok);
    for (const b of ["localhost", "", "a..b", ".a.b", "a.b.", "Bat.ts.net", "a_b.net", "-a.net"])
        assert.equal(tailnetProblem(b), bad, JSON.stringify(b));
    assert.equal(tailnetProblem(`${"a".repeat(63)}.net`), ok);
    assert.equal(tailnetProblem(`${"a".repeat(64)}.net`), bad);
    const long = (n: number) => [...Array.from({ length: Math.floor(n / 2) - 1 }, () => "a"), n % 2 ? "bbb" : "bb"].join(".");
    assert.equal(long(253).length, 253);
    assert.equal(tailnetProblem(long(253)), ok);
    assert.equal(tailnetProblem(long(254)), bad);
});

test("control characters: which one, what it is and where", () => {
    assert.equal(controlCharacter("plain text ~"), ok);
    assert.equal(controlCharacter("ab\ncd"), "U+000A, a line break at position 2");
    assert.equal(controlCharacter("\r"), "U+000D, a line break at position 0");
    assert.equal(controlCharacter("a\u2028"), "U+2028, a line break at position 1");
    assert.equal(controlCharacter("a\u2029"), "U+2029, a line break at position 1");
    assert.equal(controlCharacter("a\u0085"), "U+0085, a line break at position 1");
    assert.equal(controlCharacter("\tx"), "U+0009, a tab at position 0");
    assert.equal(controlCharacter("x\u0000"), "U+0000 at position 1");
    assert.equal(controlCharacter("x\u001f"), "U+001F at position 1");
    assert.equal(controlCharacter("x\u007f"), "U+007F at position 1");
    assert.equal(controlCharacter("x\u009f"), "U+009F at position 1");
    assert.equal(controlCharacter("x\u00a0\u2027\u202a"), ok, "just past each range");
    assert.equal(controlCharacter("a\u0001b\nc"), "U+0001 at position 1", "the first one");
});

/** An OpenSSH key blob: string type, then `rest` bytes. */
function blob(type: string, rest = 32): string {
    const t = Buffer.from(type, "latin1");
    const len = Buffer.alloc(4);
    len.writeUInt32BE(t.length);
    return Buffer.concat([len, t, Buffer.alloc(rest, 7)]).toString("base64");
}

test("public keys: the blob must decode to a key of the named type, with key data after it", () => {
    const ed = `ssh-ed25519 ${blob("ssh-ed25519")}`;
    assert.equal(publicKeyProblem(ed), ok);
    assert.equal(publicKeyProblem(`${ed} me@host with spaces`), ok);
    assert.equal(publicKeyProblem(`  ${ed}  `), ok, "spaces around");
    assert.equal(publicKeyProblem(`ssh-ed25519   ${blob("ssh-ed25519")}`), ok, "several spaces between");
    assert.equal(publicKeyProblem(`ssh-rsa ${blob("ssh-ed25519")}`), "has a key blob that is not a ssh-rsa key");
    assert.equal(
        publicKeyProblem(`ssh-ed25519 ${blob("ssh-ed25519", 0)}`),
        "has a key blob that is not a ssh-ed25519 key",
        "the type and nothing after it",
    );
    assert.equal(publicKeyProblem(`ssh-ed25519 ${blob("ssh-ed25519", 1)}`), ok, "one byte after the type");
    assert.equal(
        publicKeyProblem(`ssh-ed25519 ${blob("ssh-ed2551")}`),
        "has a key blob that is not a ssh-ed25519 key",
        "a type that is a prefix",
    );
    assert.equal(publicKeyProblem("ssh-ed25519 AAA="), "has a key blob that is not a ssh-ed25519 key", "shorter than a length");
    assert.equal(publicKeyProblem("ssh-ed25519 AAAAC3Nz"), "has a key blob that is not a ssh-ed25519 key");
    const notBase64 = "has a key blob that is not base64";
    for (const b of ["AAAAC3N", "AAAA!3Nz", "AAAAC3Nz===", "=AAA", "AAAAC3Nz-"])
        assert.equal(publicKeyProblem(`ssh-ed25519 ${b}`), notBase64, b);
    assert.equal(publicKeyProblem("ssh-ed25519"), "is not '<type> <base64> [comment]'");
    assert.equal(publicKeyProblem(""), "is not '<type> <base64> [comment]'");
    assert.equal(publicKeyProblem("-----BEGIN OPENSSH PRIVATE KEY-----"), "is a private key; give the public key (the .pub file)");
    assert.equal(
        publicKeyProblem(`${ed}\nssh-ed25519 x`),
        `contains a control character (U+000A, a line break at position ${ed.length}): a key is one line, and a second line would be a second authorized_keys entry`,
    );
    assert.equal(
        publicKeyProblem(`ssh-dss ${blob("ssh-dss")}`),
        'has unknown key type "ssh-dss"; known: ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com',
    );
    for (const type of [
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    ]) {
        assert.equal(publicKeyProblem(`${type} ${blob(type)}`), ok, type);
    }
    for (const opts of [
        "no-pty",
        "restrict",
        "cert-authority",
        'permitopen="x:1"',
        'from="1.2.3.4"',
        'command="x"',
        'environment="A=b"',
        'tunnel="0"',
        'principals="a"',
        'expiry-time="2030"',
        "a,b",
        "x=y",
    ]) {
        assert.match(publicKeyProblem(`${opts} ${ed}`) ?? "", /^starts with authorized_keys options \(/, opts);
    }
    assert.equal(
        publicKeyProblem(`${"no-".repeat(20)}x ${ed}`),
        `starts with authorized_keys options (${show("no-".repeat(13) + "n")}); give only '<type> <base64> [comment]'`,
        "shown up to 40 characters",
    );
    assert.match(publicKeyProblem(`fromage ${ed}`) ?? "", /^starts with authorized_keys options/, "option names are matched at the start");
    assert.match(publicKeyProblem(`xno-pty ${ed}`) ?? "", /^has unknown key type "xno-pty"/);
});

test("paths: absolute, normalised, safe characters, no part starting with '-'", () => {
    assert.equal(safePathProblem("/"), ok);
    assert.equal(safePathProblem("/var/lib/project-vms"), ok);
    assert.equal(safePathProblem("/a/b-c/.d/e..f"), ok);
    assert.equal(safePathProblem("var/lib"), "must be an absolute path");
    assert.equal(safePathProblem(""), "must be an absolute path");
    assert.equal(safePathProblem("/a\nb"), "contains a control character (U+000A, a line break at position 2)");
    assert.equal(
        safePathProblem("/a b"),
        "may only contain letters, digits and . _ - / (it goes into libvirt XML and host commands as it is)",
    );
    assert.equal(
        safePathProblem("/a b/c"),
        "may only contain letters, digits and . _ - / (it goes into libvirt XML and host commands as it is)",
        "a bad character before the last '/'",
    );
    assert.equal(safePathProblem("/a/../b"), "must not contain '..'");
    assert.equal(safePathProblem("/a/.."), "must not contain '..'");
    assert.equal(safePathProblem("/a/-b"), "must not have a part starting with '-'");
    assert.equal(safePathProblem("/-"), "must not have a part starting with '-'");
    for (const p of ["/a//b", "/a/./b", "/a/", "/a/.", "//"])
        assert.equal(safePathProblem(p), "must be normalised (no '//', '/./' or trailing '/')", p);
});

test("storage folders: not a system folder, not under a volatile tree; a name that only starts like one is fine", () => {
    const system = "is a system folder; give a folder of its own, e.g. /var/lib/project-vms";
    for (const d of ["/", "/var/lib", "/home", "/usr/local", "/var/run", "/nix", "/srv", "/opt"])
        assert.equal(storageDirProblem(d), system, d);
    const under = (t: string) => `is under ${t}, which is virtual, read-only or emptied at boot: project disks would be lost`;
    assert.equal(storageDirProblem("/tmp/vms"), under("/tmp"));
    assert.equal(storageDirProblem("/var/lock"), under("/var/lock"));
    assert.equal(storageDirProblem("/var/lock/x"), under("/var/lock"));
    assert.equal(storageDirProblem("/nix/store"), under("/nix/store"));
    assert.equal(storageDirProblem("/nix/store/abc-vms"), under("/nix/store"));
    assert.equal(storageDirProblem("/run/user/1000/vms"), under("/run"));
    assert.equal(storageDirProblem("/dev/shm/vms"), under("/dev"));
    for (const d of ["/tmpfs", "/var/lib/project-vms", "/nix/storage", "/runs/vms", "/srv/vms", "/home/me/vms", "/var/tmpx"])
        assert.equal(storageDirProblem(d), ok, d);
    assert.equal(storageDirProblem("relative"), "must be an absolute path");
});

test("XML-safe values", () => {
    for (const v of ["a", "/var/lib/x", "a..b", "a-b_c.d"]) assert.ok(xmlSafe(v), v);
    for (const v of ["", "a b", "a/../b", "..", "a<b", 'a"b', "a&b", "a/.."]) assert.ok(!xmlSafe(v), JSON.stringify(v));
});

test("libvirt URIs: the documented ones only; the reason for a parameter, a port, a bad user or host", () => {
    const refuse = "must be qemu:///system, qemu:///session or qemu+ssh://[user@]host/system (or /session), without a port or ?parameters";
    for (const u of [
        "qemu:///system",
        "qemu:///session",
        "qemu+ssh://host/system",
        "qemu+ssh://me@host.example/session",
        "qemu+ssh://_a.b-c@10.0.0.1/system",
        `qemu+ssh://${"a.".repeat(126)}a/system`,
    ]) {
        assert.equal(libvirtUriProblem(u), ok, u);
    }
    assert.equal(
        libvirtUriProblem(`qemu+ssh://${"a.".repeat(126)}ab/system`),
        `${refuse}: the host must be a host name or IPv4 address`,
        "254 characters",
    );
    for (const u of ["qemu+ssh://host/system?socket=/x", "qemu:///system?no_verify=1", "qemu+ssh://host/system#x"]) {
        assert.equal(libvirtUriProblem(u), `${refuse}: parameters can run commands, reach other sockets or skip host-key checks`, u);
    }
    assert.equal(
        libvirtUriProblem("qemu+ssh://host:22/system"),
        `${refuse}: the libvirt provider mishandles an explicit port (use port 22 or an ~/.ssh/config Host entry)`,
    );
    assert.equal(
        libvirtUriProblem("qemu+ssh://me@host:/system"),
        `${refuse}: the libvirt provider mishandles an explicit port (use port 22 or an ~/.ssh/config Host entry)`,
    );
    const user = `${refuse}: the user must be letters, digits, _ . - (not starting with - or .)`;
    for (const u of ["qemu+ssh://@host/system", "qemu+ssh://-me@host/system", "qemu+ssh://.me@host/system", "qemu+ssh://m e@host/system"])
        assert.equal(libvirtUriProblem(u), user, u);
    const host = `${refuse}: the host must be a host name or IPv4 address`;
    for (const u of [
        "qemu+ssh:///system",
        "qemu+ssh://-host/system",
        "qemu+ssh://host-/system",
        "qemu+ssh://a..b/system",
        "qemu+ssh://ho_st/system",
    ])
        assert.equal(libvirtUriProblem(u), host, u);
    for (const u of [
        "qemu:///systemd",
        "qemu+tcp://host/system",
        "qemu+ssh://host/other",
        "xqemu:///system",
        "qemu+ssh://host/system/",
        "qemu+ext:///system",
        "xqemu+ssh://host/system",
        "xqemu+ssh://host:22/system",
    ]) {
        assert.equal(libvirtUriProblem(u), refuse, u);
    }
});

const SHA = "ab".repeat(64);

test("image locations: https (Debian's, or with a sha512), http only with a sha512, absolute local paths", () => {
    const debian = "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-generic-amd64.qcow2";
    assert.equal(imageLocationProblem(debian), ok);
    assert.equal(
        imageLocationProblem("HTTPS://cloud.debian.org/images/cloud/trixie/latest/x.qcow2"),
        "is not a cloud.debian.org image (whose SHA512SUMS the program reads), so it needs its sha512 in the config",
    );
    assert.equal(imageLocationProblem("https://example.com/x.qcow2", SHA), ok);
    assert.equal(imageLocationProblem("https://example.com:8443/x.qcow2?a=b&c=%20", SHA), ok);
    assert.equal(
        imageLocationProblem("https://example.com/x.qcow2"),
        "is not a cloud.debian.org image (whose SHA512SUMS the program reads), so it needs its sha512 in the config",
    );
    assert.equal(
        imageLocationProblem("http://example.com/x.qcow2"),
        "is a plain http:// URL without a sha512, which anyone on the way can change; use an https:// URL, a local path, or give its sha512",
    );
    assert.equal(
        imageLocationProblem("HTTP://example.com/x.qcow2"),
        "is a plain http:// URL without a sha512, which anyone on the way can change; use an https:// URL, a local path, or give its sha512",
    );
    assert.equal(imageLocationProblem("http://example.com/x.qcow2", SHA), ok);
    assert.equal(
        imageLocationProblem("https://example.com/x.qcow2?from=http://mirror"),
        "is not a cloud.debian.org image (whose SHA512SUMS the program reads), so it needs its sha512 in the config",
        "http:// later in an https URL",
    );
    assert.equal(
        imageLocationProblem("/images/https://x.qcow2"),
        "is a local path that may only contain letters, digits and . _ - / (it goes into libvirt XML and host commands as it is)",
        "https:// inside a local path",
    );
    const plain = "must be an https:// URL of plain characters (letters, digits, . _ ~ : / ? # @ ! & + , = % -) or a local path";
    for (const u of [
        "https://example.com/x y.qcow2",
        "https://example.com/$(id)",
        "https://",
        "https://-x.com/a",
        "https://exa_mple.com/a",
        "https://a..b/x",
        "https://example.com:123456/x",
    ]) {
        assert.equal(imageLocationProblem(u, SHA), plain, u);
    }
    assert.equal(
        imageLocationProblem("https://example.com\n/x", SHA),
        "contains a control character (U+000A, a line break at position 19)",
    );
    assert.equal(imageLocationProblem("/var/lib/images/x.qcow2"), ok);
    assert.equal(imageLocationProblem("file:///var/lib/images/x.qcow2"), ok);
    assert.equal(
        imageLocationProblem("file://var/x.qcow2"),
        "must be an https:// URL or an absolute path (or file:///path) of a qcow2 image",
    );
    assert.equal(imageLocationProblem("x.qcow2"), "must be an https:// URL or an absolute path (or file:///path) of a qcow2 image");
    assert.equal(
        imageLocationProblem("ftp://host/x.qcow2"),
        "must be an https:// URL or an absolute path (or file:///path) of a qcow2 image",
    );
    assert.equal(imageLocationProblem("/var/../x.qcow2"), "is a local path that must not contain '..'");
    assert.equal(
        imageLocationProblem("file:///a b.qcow2"),
        "is a local path that may only contain letters, digits and . _ - / (it goes into libvirt XML and host commands as it is)",
    );
});

test("Debian's SHA512SUMS: only beside an official cloud image, in a folder of its own", () => {
    assert.equal(
        debianSumsUrl("https://cloud.debian.org/images/cloud/trixie/latest/debian-13-generic-amd64.qcow2"),
        "https://cloud.debian.org/images/cloud/trixie/latest/SHA512SUMS",
    );
    assert.equal(
        debianSumsUrl("https://cloud.debian.org/images/cloud/trixie/debian-13.qcow2"),
        "https://cloud.debian.org/images/cloud/trixie/SHA512SUMS",
    );
    for (const u of [
        "https://cloud.debian.org/images/cloud/debian-13.qcow2",
        "http://cloud.debian.org/images/cloud/trixie/x.qcow2",
        "https://cloud.debian.org/images/cloud/trixie/x.raw",
        "https://cloud.debian.org/images/cloud/trixie/x.qcow2?x",
        "https://cloud.debian.org.evil.com/images/cloud/trixie/x.qcow2",
        "https://xcloud.debian.org/images/cloud/trixie/x.qcow2",
        "https://cloud.debian.org/images/cloud/a b/x.qcow2",
        "https://cloud.debian.org/images/cloud/trixie/x.qcow2x",
        "xhttps://cloud.debian.org/images/cloud/trixie/x.qcow2",
    ]) {
        assert.equal(debianSumsUrl(u), undefined, u);
    }
});

test("sha512: exactly 128 hex digits, either case", () => {
    const bad = "must be the image's SHA-512: 128 hexadecimal digits (sha512sum prints it)";
    assert.equal(sha512Problem(SHA), ok);
    assert.equal(sha512Problem(SHA.toUpperCase()), ok);
    assert.equal(sha512Problem(SHA.slice(1)), bad, "127");
    assert.equal(sha512Problem(`${SHA}a`), bad, "129");
    assert.equal(sha512Problem(`${SHA.slice(1)}g`), bad);
    assert.equal(sha512Problem(""), bad);
});

test("the NAT network: /8 to /29, the network address, outside the special ranges, room for the projects", () => {
    const form = "must be an IPv4 CIDR with a prefix of /8 to /29 and no leading zeros, e.g. 10.17.0.0/24";
    assert.equal(cidrProblem("10.0.0.0/8", 1), ok);
    assert.equal(cidrProblem("10.17.0.0/24", 1), ok);
    assert.equal(cidrProblem("10.17.0.8/29", 5), ok, "8 addresses: room for 5");
    assert.equal(
        cidrProblem("10.17.0.8/29", 6),
        "has room for 5 VMs (besides the network, broadcast and gateway addresses), but the stack has 6 projects; use a shorter prefix",
    );
    for (const c of [
        "10.0.0.0/7",
        "10.17.0.0/30",
        "10.17.0.0",
        "010.17.0.0/24",
        "10.17.00.0/24",
        "256.0.0.0/8",
        "10.17.0.256/24",
        "10.17.0/24",
        "10.17.0.0/024",
        "10.17.0.0/24x",
        "10.17.0.0/245",
        "a.b.c.d/24",
        " 10.17.0.0/24",
    ]) {
        assert.equal(cidrProblem(c, 1), form, c);
    }
    assert.equal(cidrProblem("10.17.0.1/24", 1), "has host bits set; the network address is 10.17.0.0/24");
    assert.equal(cidrProblem("192.168.150.129/25", 1), "has host bits set; the network address is 192.168.150.128/25");
    assert.equal(cidrProblem("10.255.1.0/8", 1), "has host bits set; the network address is 10.0.0.0/8");
    const overlap = (what: string) => `overlaps ${what}; use a private range such as 10.17.0.0/24 or 192.168.150.0/24`;
    assert.equal(cidrProblem("0.0.0.0/8", 1), overlap("the unspecified range 0.0.0.0/8"));
    assert.equal(cidrProblem("127.0.0.0/24", 1), overlap("the loopback range 127.0.0.0/8"));
    assert.equal(cidrProblem("127.255.255.248/29", 1), overlap("the loopback range 127.0.0.0/8"), "the last block of the range");
    assert.equal(cidrProblem("169.254.0.0/24", 1), overlap("the link-local range 169.254.0.0/16"));
    assert.equal(cidrProblem("169.0.0.0/8", 1), overlap("the link-local range 169.254.0.0/16"), "a network holding the range");
    assert.equal(cidrProblem("224.0.0.0/8", 1), overlap("the multicast range 224.0.0.0/4"));
    assert.equal(cidrProblem("240.0.0.0/8", 1), overlap("the reserved and broadcast range 240.0.0.0/4"));
    assert.equal(cidrProblem("255.255.255.248/29", 1), overlap("the reserved and broadcast range 240.0.0.0/4"));
    for (const c of ["1.0.0.0/8", "126.255.255.248/29", "128.0.0.0/8", "169.253.255.248/29", "169.255.0.0/16", "223.255.255.248/29"])
        assert.equal(cidrProblem(c, 1), ok, `${c}: just outside`);
});

test("Tailscale API settings: credentials up to 256 characters, the tailnet, and https (http only to this machine)", () => {
    const cred = "is malformed (Tailscale credentials are letters, digits, '-' and '_'); its value is secret and not shown";
    assert.equal(credentialProblem("tskey-api-abc_DEF-123"), ok);
    assert.equal(credentialProblem("a".repeat(256)), ok);
    assert.equal(credentialProblem("a".repeat(257)), cred);
    for (const c of ["", "a b", "a.b", "a\n"]) assert.equal(credentialProblem(c), cred, JSON.stringify(c));
    const tn = "must be '-' (the credentials' own tailnet) or the tailnet's name: letters, digits and . _ @ -";
    for (const t of ["-", "example.com", "me@example.com", "T123abc", "a", `a${"b".repeat(252)}`])
        assert.equal(apiTailnetProblem(t), ok, t);
    for (const t of ["", "--", "_a", ".a", "@a", "a b", `a${"b".repeat(253)}`]) assert.equal(apiTailnetProblem(t), tn, t);
    for (const u of [
        "https://api.tailscale.com",
        "https://api.tailscale.com:443/api/v2",
        "http://localhost:8080",
        "http://127.0.0.1",
        "http://[::1]:9/x",
        "https://[::1]",
    ]) {
        assert.equal(apiBaseUrlProblem(u), ok, u);
    }
    const clear = "is plain http, which would send the Tailscale credentials in the clear; use https://";
    for (const u of ["http://api.tailscale.com", "http://localhost.example.com", "http://127.0.0.2", "http://x127.0.0.1"])
        assert.equal(apiBaseUrlProblem(u), clear, u);
    const form = "must be an https:// URL: a host, an optional port and path, e.g. https://api.tailscale.com";
    for (const u of [
        "ftp://x.com",
        "https://",
        "https://-bad.com",
        "https://a..b",
        "https://a.com:123456",
        "https://a.com/x?y",
        "https://a.com/ x",
        "https://[::2]",
        "xhttps://a.com",
        "https://a.com:/x",
    ]) {
        assert.equal(apiBaseUrlProblem(u), form, u);
    }
});
