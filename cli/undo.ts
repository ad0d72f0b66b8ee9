// One step of undo per host stack: before project-vm writes a stack file it keeps the text it
// replaces, so that a change can be taken back exactly (every field and comment of an entry, not
// a re-creation from defaults). Kept in `.project-vm/` of the project folder (ignored by git).
import * as fs from "node:fs";
import * as path from "node:path";

/** What `project-vm undo` restores. */
export interface UndoRecord {
    /** The change, e.g. `destroy webapp`. */
    what: string;
    /** The stack file's text before the change. */
    before: string;
    /** Its text as the change wrote it: undo refuses when the file no longer says this. */
    after: string;
    /** When the change was written (ISO 8601). */
    at: string;
    /** What the change destroyed that undo cannot bring back (a purged project disk), if anything. */
    lost?: string;
}

/** Where the undo record of a host stack is kept. */
export function undoPath(dir: string, host: string): string {
    return path.join(dir, ".project-vm", `undo.${host}.json`);
}

/** Keeps the record of the latest change of a host stack (replacing the one before). */
export function recordUndo(dir: string, host: string, record: UndoRecord): void {
    const file = undoPath(dir, host);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    fs.renameSync(tmp, file);
}

/** The record of the latest change of a host stack, if any. */
export function readUndo(dir: string, host: string): UndoRecord | undefined {
    try {
        const r = JSON.parse(fs.readFileSync(undoPath(dir, host), "utf8"));
        return typeof r?.before === "string" && typeof r?.after === "string" && typeof r?.what === "string" &&
            (r.lost === undefined || typeof r.lost === "string") ? r : undefined;
    } catch {
        return undefined;
    }
}

/** Forgets the record once it has been used. */
export function forgetUndo(dir: string, host: string): void {
    fs.rmSync(undoPath(dir, host), { force: true });
}
