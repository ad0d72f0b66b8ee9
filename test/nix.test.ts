// The Nix side: every .nix file parses with Debian's nix-bin, and the NixOS module, the package,
// the dev shell and the flake are evaluated against stand-ins of nixpkgs (test/nix/stubs.nix; no
// nixpkgs here): what they declare, what they set, and that they agree with the program.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { DEFAULTS, NETWORK_DEFAULTS } from "../components/config";
import { TOOLS } from "../cli/commands";
import { REPO } from "./support/schemas";
import { requireTool } from "./support/tools";

const EVAL = path.join(REPO, "test", "nix", "eval.nix");

function nixFiles(dir = REPO): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        if (e.name === "node_modules" || e.name.startsWith(".")) return [];
        const p = path.join(dir, e.name);
        return e.isDirectory() ? nixFiles(p) : e.name.endsWith(".nix") ? [p] : [];
    });
}

/** Evaluates an attribute of test/nix/eval.nix with the module `settings` (a Nix expression). */
function evaluate(attr: string, settings = "{ }"): any {
    const r = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", EVAL, "-A", attr, "--arg", "settings", settings], {
        encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
}

const hasNix = (t: { skip(reason: string): void }) => requireTool("nix-instantiate", "nix-bin", (r) => t.skip(r));

test("every .nix file parses", (t) => {
    if (!hasNix(t)) return;
    const files = nixFiles();
    assert.deepEqual(files.map((f) => path.relative(REPO, f)).sort(), [
        "flake.nix",
        "nix/module.nix",
        "nix/package.nix",
        "nix/shell.nix",
        "test/nix/eval.nix",
        "test/nix/stubs.nix",
    ]);
    for (const f of files) {
        const r = spawnSync("nix-instantiate", ["--parse", f], { encoding: "utf8" });
        assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
});

test("the module's options: typed, described, defaults that pass their types and match the program's", (t) => {
    if (!hasNix(t)) return;
    const { options, enabled } = evaluate("module");
    assert.deepEqual(Object.keys(options).sort(), [
        "adminUsers",
        "backups.enable",
        "backups.host",
        "backups.schedule",
        "backups.stacksDir",
        "backups.user",
        "enable",
        "networkBridge",
        "onHostShutdown",
        "package",
        "restoreRunningVms",
        "shutdownTimeout",
        "storageDir",
    ]);
    for (const [name, o] of Object.entries<any>(options)) {
        assert.ok(o.description.length > 20, `${name} is described`);
        assert.equal(o.defaultTypeChecks, true, `${name}'s default is a ${o.type}`);
    }
    assert.equal(options.enable.default, false, "nothing happens until enabled");
    assert.equal(enabled, false, "config = mkIf cfg.enable");
    assert.equal(options.storageDir.default, DEFAULTS.storageDir, "the stacks' default storageDir");
    assert.equal(options.networkBridge.default, NETWORK_DEFAULTS.name, "the program names its NAT network's bridge as the network");
    assert.equal(options.package.default, "project-vm-0.1.0");
    assert.equal(options.package.defaultText, "pkgs.callPackage ./nix/package.nix { }");
});

test("enabled: libvirtd with QEMU/KVM, the storage folder, admins in libvirtd, sshd, the bridge trusted, tools installed", (t) => {
    if (!hasNix(t)) return;
    const m = evaluate("module", '{ enable = true; adminUsers = [ "admin" "ops" ]; }');
    assert.equal(m.enabled, true);
    assert.deepEqual(m.refused, []);
    const c = m.config;
    assert.equal(c.virtualisation.libvirtd.enable, true);
    assert.match(c.virtualisation.libvirtd.qemu.package, /-qemu_kvm$/);
    assert.equal(c.virtualisation.libvirtd.qemu.runAsRoot, false);
    assert.deepEqual(
        [c.virtualisation.libvirtd.onBoot, c.virtualisation.libvirtd.onShutdown, c.virtualisation.libvirtd.shutdownTimeout],
        ["start", "shutdown", 300],
        "VMs that ran before a host reboot come back; they are shut down cleanly first",
    );
    assert.deepEqual(c.systemd.tmpfiles.rules, ["d /var/lib/project-vms 0711 root root - -"]);
    assert.deepEqual(c.users.users, { admin: { extraGroups: ["libvirtd"] }, ops: { extraGroups: ["libvirtd"] } });
    assert.deepEqual(
        c.services.openssh.enable,
        { _type: "override", priority: 1000, content: true },
        "sshd on, as a default the host may override",
    );
    assert.deepEqual(c.networking.firewall.trustedInterfaces, ["project-vms"]);
    assert.deepEqual(c.environment.systemPackages, [
        "project-vm-0.1.0",
        "pulumi-bin",
        "nodejs_20",
        "libvirt",
        "cdrkit",
        "openssh",
        "jq",
        "curl",
    ]);
    assert.ok(c.assertions.every((a: any) => a.assertion === true));
});

test("the module's settings change what it sets, and its types refuse bad values", (t) => {
    if (!hasNix(t)) return;
    const c = evaluate(
        "module",
        '{ enable = true; storageDir = "/srv/pvms"; networkBridge = null; restoreRunningVms = false; onHostShutdown = "suspend"; shutdownTimeout = 60; }',
    ).config;
    assert.deepEqual(c.systemd.tmpfiles.rules, ["d /srv/pvms 0711 root root - -"]);
    assert.deepEqual(c.networking.firewall.trustedInterfaces, []);
    assert.deepEqual(
        [c.virtualisation.libvirtd.onBoot, c.virtualisation.libvirtd.onShutdown, c.virtualisation.libvirtd.shutdownTimeout],
        ["ignore", "suspend", 60],
    );
    assert.deepEqual(c.users.users, {});

    // (The module system stops at the first refused value; the stand-in lists them all.)
    const refused: string[] = evaluate(
        "module.refused",
        '{ enable = true; onHostShutdown = "hibernate"; shutdownTimeout = 0; adminUsers = "admin"; networkBridge = 3; }',
    );
    assert.deepEqual(refused.sort(), ["adminUsers", "networkBridge", "onHostShutdown", "shutdownTimeout"]);
    const spaced = evaluate("module", '{ enable = true; storageDir = "/srv/project vms"; }').config;
    assert.deepEqual(
        spaced.assertions.filter((a: any) => !a.assertion).map((a: any) => a.message),
        ["services.project-vms.storageDir must be an absolute path without spaces, as the stacks' storageDir; got /srv/project vms"],
    );
});

test("backups: off by default; enabled, a persistent timer runs project-vm backup --all as an admin, a failure fails the unit", (t) => {
    if (!hasNix(t)) return;
    const off = evaluate("module", '{ enable = true; adminUsers = [ "admin" ]; }').config;
    assert.equal(off.systemd.services["project-vms-backup"].condition, false);
    assert.equal(off.systemd.timers["project-vms-backup"].condition, false);
    const { options } = evaluate("module");
    assert.equal(options["backups.enable"].default, false);
    assert.equal(options["backups.schedule"].default, "daily");

    const on = evaluate(
        "module",
        '{ enable = true; adminUsers = [ "admin" "ops" ]; backups = { enable = true; stacksDir = "/home/admin/project-vms"; host = "storage"; }; }',
    );
    assert.deepEqual(on.refused, []);
    const service = on.config.systemd.services["project-vms-backup"];
    assert.equal(service.condition, true);
    assert.equal(
        service.content.serviceConfig.Type,
        "oneshot",
        "its exit status is the unit's: a failed backup shows in systemctl --failed",
    );
    assert.equal(service.content.serviceConfig.User, "admin", "the first admin: in the libvirtd group");
    assert.match(
        service.content.serviceConfig.ExecStart,
        /^\/nix\/store\/\S+-project-vm-0\.1\.0\/bin\/project-vm --dir \/home\/admin\/project-vms --host storage backup --all$/,
    );
    assert.deepEqual(
        service.content.path.map((p: string) => p.replace(/^.*-/, "")),
        ["bash", "gawk", "libvirt"],
        "what backup.sh runs",
    );
    assert.ok(service.content.after.includes("libvirtd.service"));
    const timer = on.config.systemd.timers["project-vms-backup"];
    assert.equal(timer.condition, true);
    assert.deepEqual(timer.content.wantedBy, ["timers.target"]);
    assert.deepEqual(
        [timer.content.timerConfig.OnCalendar, timer.content.timerConfig.Persistent],
        ["daily", true],
        "a run missed while the host was off runs at boot",
    );
    assert.ok(on.config.assertions.every((a: any) => a.assertion === true));

    const other = evaluate(
        "module",
        '{ enable = true; backups = { enable = true; stacksDir = "/srv/pvms"; schedule = "*-*-* 02:30:00"; user = "backup"; }; }',
    ).config;
    assert.equal(other.systemd.services["project-vms-backup"].content.serviceConfig.User, "backup");
    assert.match(
        other.systemd.services["project-vms-backup"].content.serviceConfig.ExecStart,
        / --dir \/srv\/pvms backup --all$/,
        "no --host: the only stack",
    );
    assert.equal(other.systemd.timers["project-vms-backup"].content.timerConfig.OnCalendar, "*-*-* 02:30:00");

    const missing = evaluate("module", "{ enable = true; backups.enable = true; }").config;
    assert.deepEqual(
        missing.assertions.filter((a: any) => !a.assertion).map((a: any) => a.message),
        [
            "services.project-vms.backups needs stacksDir (the checkout with the stack files) and a user (backups.user or an adminUsers entry)",
        ],
    );
    // ExecStart is split by systemd and expands % and $: values that would be reread are refused.
    for (const [settings, key] of [
        ['stacksDir = "/home/admin/my stacks"', "stacksDir"],
        ['stacksDir = "/srv/%h"', "stacksDir"],
        ['stacksDir = "/srv/$HOME"', "stacksDir"],
        ['stacksDir = "relative/dir"', "stacksDir"],
        ['stacksDir = "/srv/a\\"b"', "stacksDir"],
        ['stacksDir = "/srv/pvms"; host = "storage --all"', "host"],
        ['stacksDir = "/srv/pvms"; host = "%n"', "host"],
    ] as const) {
        const c = evaluate("module", `{ enable = true; adminUsers = [ "admin" ]; backups = { enable = true; ${settings}; }; }`).config;
        const failed = c.assertions.filter((a: any) => !a.assertion).map((a: any) => a.message);
        assert.equal(failed.length, 1, `${settings} is refused`);
        assert.match(
            failed[0],
            new RegExp(`^services\\.project-vms\\.backups\\.${key} must be .*; got `),
            `${settings}: the option and the value named`,
        );
    }
    const fine = evaluate(
        "module",
        '{ enable = true; adminUsers = [ "admin" ]; backups = { enable = true; stacksDir = "/home/admin/src/project-vms_2.0+x@y"; host = "raider-2.lab_b"; }; }',
    ).config;
    assert.ok(
        fine.assertions.every((a: any) => a.assertion === true),
        "ordinary paths and stack names pass",
    );
    const refused: string[] = evaluate(
        "module.refused",
        '{ enable = true; backups = { enable = "yes"; schedule = 3; stacksDir = [ ]; }; }',
    );
    assert.deepEqual(refused.sort(), ["backups.enable", "backups.schedule", "backups.stacksDir"]);
});

test("the package: buildNpmPackage of this checkout, dependencies pinned by package-lock.json, tools on the CLI's PATH", (t) => {
    if (!hasNix(t)) return;
    const p = evaluate("package");
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));
    const lock = JSON.parse(fs.readFileSync(path.join(REPO, "package-lock.json"), "utf8"));
    assert.equal(p.pname, "project-vm");
    assert.equal(p.version, pkg.version);
    assert.equal(p.meta.mainProgram, Object.keys(pkg.bin)[0], "the binary package.json installs");
    assert.ok(pkg.scripts[p.npmBuildScript], "the build script exists");
    assert.deepEqual(pkg.files, ["dist/"], "npm pack (buildNpmPackage's install) ships the built CLI");
    assert.deepEqual(p.src.missing, [], "every source the package names exists");
    for (const dir of ["cli", "components", "sdks"]) assert.ok(p.src.files.includes(path.join(REPO, dir)), dir);
    assert.deepEqual(p.npmDeps, { npmRoot: REPO, lockfileVersion: lock.lockfileVersion, packages: Object.keys(lock.packages).length });
    assert.equal(p.npmConfigHook, "npm-config-hook");
    assert.equal(p.nodejs, "nodejs_20");
    assert.match(p.postInstall, /^wrapProgram "\$out\/bin\/project-vm" --prefix PATH : /);
    // Every tool `project-vm doctor` checks is on the wrapped PATH.
    const provides: Record<string, string> = {
        pulumi: "pulumi-bin",
        virsh: "libvirt",
        mkisofs: "cdrkit",
        ssh: "openssh",
        jq: "jq",
        curl: "curl",
    };
    for (const tool of TOOLS) assert.match(p.postInstall, new RegExp(`-${provides[tool.cmd]}/bin`), `${tool.cmd} (${provides[tool.cmd]})`);
});

test("the dev shell and the flake", (t) => {
    if (!hasNix(t)) return;
    const shell: string[] = evaluate("shell");
    for (const p of ["nodejs_20", "pulumi-bin", "libvirt", "cdrkit", "qemu-utils"]) assert.ok(shell.includes(p), p);
    const flake = evaluate("flake");
    assert.match(flake.nixpkgs, /^github:NixOS\/nixpkgs\/nixos-\d\d\.\d\d$/);
    for (const system of ["x86_64-linux", "aarch64-linux"]) {
        assert.deepEqual(flake.packages[system], { default: "project-vm-0.1.0", "project-vm": "project-vm-0.1.0" });
        assert.deepEqual(flake.devShells[system], shell);
    }
    assert.equal(flake.nixosModule, path.join(REPO, "nix", "module.nix"));
});

test("the shell snippets in the Nix files pass shellcheck", (t) => {
    if (!hasNix(t) || !requireTool("shellcheck", "shellcheck", (r) => t.skip(r))) return;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-nix-"));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const shellHook = /shellHook = ''\n([\s\S]*?)\n\s*'';/.exec(fs.readFileSync(path.join(REPO, "nix", "shell.nix"), "utf8"))?.[1];
    assert.ok(shellHook, "nix/shell.nix has a shellHook");
    const snippets = { "postInstall.sh": evaluate("package").postInstall, "shellHook.sh": shellHook };
    for (const [name, text] of Object.entries(snippets)) {
        // stdenv's setup defines $out and wrapProgram.
        fs.writeFileSync(path.join(dir, name), `#!/bin/bash\nout=\${out:?}\nwrapProgram() { :; }\n${text}\n`);
        const r = spawnSync("shellcheck", ["-s", "bash", path.join(dir, name)], { encoding: "utf8" });
        assert.equal(r.status, 0, `${name}: ${r.stdout}`);
    }
});
