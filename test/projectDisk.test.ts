// cloud-init/scripts/project-disk.sh against stand-ins for mountpoint, mount, findmnt, blkid,
// getent and chown: the project disk is taken only when it is mounted and carries the project's
// label; the developer then owns it and their home, and gets the skeleton's dotfiles that the
// home (on a reused project disk, say) does not have yet. (The guest suite runs it for real.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { CLOUD_INIT_DIR } from "../components/cloudInit";

const STUBS: Record<string, string> = {
    mountpoint: '#!/bin/sh\n[ -e "$F/mounted" ]\n',
    mount: '#!/bin/sh\necho "mount $*" >> "$F/calls"\n[ -e "$F/mountable" ] || { echo "mount: $1: can\'t find in /etc/fstab" >&2; exit 32; }\ntouch "$F/mounted"\n',
    findmnt: "#!/bin/sh\necho /dev/vdb\n",
    blkid: '#!/bin/sh\ncase "$*" in *LABEL*) cat "$F/label" ;; *UUID*) echo 5e1f-uuid ;; esac\n',
    getent: '#!/bin/sh\n[ "$2" = dev ] && echo "dev:x:1000:1000::$F/home:/bin/bash"; [ "$2" = dev ]\n',
    chown: '#!/bin/sh\necho "chown $*" >> "$F/calls"\n',
};

function run(args: string[], setup: (dir: string) => void = () => {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-project-disk-"));
    fs.mkdirSync(path.join(dir, "bin"));
    for (const [name, text] of Object.entries(STUBS)) fs.writeFileSync(path.join(dir, "bin", name), text, { mode: 0o755 });
    fs.mkdirSync(path.join(dir, "home"));
    fs.writeFileSync(path.join(dir, "label"), "project\n");
    fs.writeFileSync(path.join(dir, "mounted"), "");
    fs.writeFileSync(path.join(dir, "calls"), "");
    setup(dir);
    const r = spawnSync("bash", [path.join(CLOUD_INIT_DIR, "scripts", "project-disk.sh"), ...args.map((a) => a.replace("$F", dir))], {
        encoding: "utf8",
        env: { ...process.env, F: dir, PATH: `${path.join(dir, "bin")}:${process.env.PATH}` },
    });
    return { ...r, dir, calls: fs.readFileSync(path.join(dir, "calls"), "utf8") };
}

const SKEL = fs.existsSync("/etc/skel") ? fs.readdirSync("/etc/skel").filter((f) => f.startsWith(".")) : [];

test("project-disk.sh: the developer owns the project disk and their home, and gets the skeleton's dotfiles it lacks", (t) => {
    if (SKEL.length < 2) return t.skip("needs /etc/skel with two dotfiles or more (Debian's has .bashrc, .profile, .bash_logout)");
    const r = run(["$F/project", "project", "dev"], (dir) => fs.writeFileSync(path.join(dir, "home", SKEL[0]), "# the developer's own\n"));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.calls, new RegExp(`^chown dev:dev ${r.dir}/home ${r.dir}/project$`, "m"));
    assert.equal(
        fs.readFileSync(path.join(r.dir, "home", SKEL[0]), "utf8"),
        "# the developer's own\n",
        "a dotfile already in the home is kept",
    );
    for (const f of SKEL.slice(1)) {
        assert.equal(
            fs.readFileSync(path.join(r.dir, "home", f), "utf8"),
            fs.readFileSync(path.join("/etc/skel", f), "utf8"),
            `${f} from the skeleton`,
        );
        assert.match(r.calls, new RegExp(`^chown dev:dev ${r.dir}/home/${f.replace(".", "\\.")}$`, "m"), `${f} is the developer's`);
    }
    assert.ok(!r.calls.includes(`home/${SKEL[0]}`), "the kept dotfile is not touched");
    assert.match(r.stderr, /project disk \/dev\/vdb \(LABEL=project, UUID=5e1f-uuid\) mounted at .*\/project for dev/);
});

test("project-disk.sh mounts the project disk itself when systemd has not yet", () => {
    const r = run(["$F/project", "project", "dev"], (dir) => {
        fs.rmSync(path.join(dir, "mounted"));
        fs.writeFileSync(path.join(dir, "mountable"), "");
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.calls, /^mount .*\/project$/m);
    assert.match(r.calls, /^chown dev:dev /m);
});

test("project-disk.sh refuses a filesystem without the project's label, an unknown user and a wrong call, and changes nothing", () => {
    const other = run(["$F/project", "project", "dev"], (dir) => fs.writeFileSync(path.join(dir, "label"), "scratch\n"));
    assert.equal(other.status, 1);
    assert.match(other.stderr, /FAILED: .*\/project is \/dev\/vdb labelled 'scratch', expected 'project'/);
    const ghost = run(["$F/project", "project", "ghost"]);
    assert.equal(ghost.status, 1);
    assert.match(ghost.stderr, /FAILED: user ghost does not exist/);
    const usage = run(["$F/project", "project"]);
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /FAILED: usage: .*project-disk\.sh <mount point> <label> <user>/);
    for (const r of [other, ghost, usage]) {
        assert.equal(r.calls, "", "nothing chowned");
        assert.deepEqual(fs.readdirSync(path.join(r.dir, "home")), []);
    }
});
