// A stand-in virsh for the host scripts: domains, pools and volumes as files under a state folder,
// every call recorded. Knobs (files in the state folder): agent (the guest agent answers), state
// (the domain's state; absent: no domain), freeze-fails, freeze-errs-after (frozen, then an error),
// freeze-slow (frozen, then 30 s), begin-fails, begin-hangs (30 s), job-fails, list-fails, v2
// (the project disk is qcow2 v2), bitmaps/<name> (dirty bitmaps in the project disk), iflist and
// blk-details (what domiflist and domblklist --details print), down (libvirt cannot be reached),
// start-on-copy (someone starts the VM while the next vol-create-from copies, once), copy-short (a
// copy within a pool comes out at half the size).
// Beside it a qemu-img whose compare says "identical" (compare-differs: "differ", compare-fails:
// an error), and an ssh that runs the command given here; both record their calls too.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The stand-in (a bash script beside this file). */
const SCRIPT = fs.readFileSync(path.join(__dirname, "fake-virsh.sh"), "utf8");

const QEMU_IMG = `#!/bin/bash
echo "qemu-img $*" >> "$FAKE_VIRSH/calls"
[ "$1" = compare ] || { echo "fake qemu-img: unexpected $1" >&2; exit 2; }
[ -e "$FAKE_VIRSH/compare-fails" ] && { echo "qemu-img: Could not open '\${@: -2:1}': Permission denied" >&2; exit 2; }
[ -e "$FAKE_VIRSH/compare-differs" ] && { echo "Content mismatch at offset 0!"; exit 1; }
echo "Images are identical."
`;

const SSH = `#!/bin/bash
while [ "$1" != -- ]; do shift; done
shift
echo "ssh $1" >> "$FAKE_VIRSH/calls"
shift
exec "$@"
`;

/** A fake host: its state folder and a bin folder to put first on PATH. */
export class FakeHost {
    readonly dir: string;
    readonly bin: string;

    constructor(readonly domain: string) {
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "pvms-fakevirsh-"));
        this.bin = path.join(this.dir, "bin");
        fs.mkdirSync(this.bin);
        fs.mkdirSync(path.join(this.dir, "pools"));
        fs.mkdirSync(path.join(this.dir, "bitmaps"));
        fs.writeFileSync(path.join(this.bin, "virsh"), SCRIPT, { mode: 0o755 });
        fs.writeFileSync(path.join(this.bin, "qemu-img"), QEMU_IMG, { mode: 0o755 });
        fs.writeFileSync(path.join(this.bin, "ssh"), SSH, { mode: 0o755 });
    }

    /** The environment a script or the CLI runs with. */
    env(): Record<string, string> {
        return { PATH: `${this.bin}:${process.env.PATH}`, FAKE_VIRSH: this.dir, FAKE_DOMAIN: this.domain };
    }

    set(knob: string, on = true): void {
        const f = path.join(this.dir, knob);
        if (on) fs.writeFileSync(f, "");
        else fs.rmSync(f, { force: true });
    }

    /** Writes a knob file with content. */
    write(file: string, content: string): void {
        fs.writeFileSync(path.join(this.dir, file), content);
    }

    state(s: string): void {
        fs.writeFileSync(path.join(this.dir, "state"), `${s}\n`);
    }

    pool(name: string, dir = `/fake/${name}`): void {
        fs.mkdirSync(path.join(this.dir, "pools", name), { recursive: true });
        fs.writeFileSync(path.join(this.dir, `pooldir-${name}`), dir);
    }

    volume(pool: string, name: string, capacity: number, allocation = 0, backing = "-", compat = "v3"): void {
        fs.writeFileSync(path.join(this.dir, "pools", pool, name), `${capacity} ${allocation} ${backing} ${compat}\n`);
    }

    /** Sets when a volume last changed (its stand-in file's mtime, which vol-dumpxml reports). */
    changed(pool: string, name: string, time: Date): void {
        fs.utimesSync(path.join(this.dir, "pools", pool, name), time, time);
    }

    volumes(pool: string): string[] {
        const d = path.join(this.dir, "pools", pool);
        return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
    }

    bitmap(name: string): void {
        fs.writeFileSync(path.join(this.dir, "bitmaps", name), "");
    }

    bitmaps(): string[] {
        return fs.readdirSync(path.join(this.dir, "bitmaps")).sort();
    }

    /** The checkpoints libvirt has metadata of. */
    metadata(): string[] {
        return fs.readdirSync(this.dir).filter((f) => f.startsWith("meta-")).map((f) => f.slice("meta-".length)).sort();
    }

    /** The virsh calls made, as lines of arguments. */
    calls(): string[] {
        const f = path.join(this.dir, "calls");
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").filter(Boolean) : [];
    }

    read(file: string): string {
        return fs.readFileSync(path.join(this.dir, file), "utf8");
    }

    cleanup(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
