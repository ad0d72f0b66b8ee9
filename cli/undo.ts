// One step of undo per host stack: before project-vm writes a stack file it keeps the text it
// replaces, so that a change can be taken back exactly (every field and comment of an entry, not
// a re-creation from defaults). Kept in `.project-vm/` of the project folder (ignored by git),
// with the text last applied, so that a change never applies an edit it did not make unsaid.
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

/** Writes a record file whole (a temporary file renamed over it), private to the user. */
function writeRecord(file: string, record: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
    fs.renameSync(tmp, file);
}

/** Keeps the record of the latest change of a host stack (replacing the one before). */
export function recordUndo(dir: string, host: string, record: UndoRecord): void {
    writeRecord(undoPath(dir, host), record);
}

/** The record of the latest change of a host stack, if any. */
export function readUndo(dir: string, host: string): UndoRecord | undefined {
    try {
        const r = JSON.parse(fs.readFileSync(undoPath(dir, host), "utf8"));
        return typeof r?.before === "string" &&
            typeof r?.after === "string" &&
            typeof r?.what === "string" &&
            (r.lost === undefined || typeof r.lost === "string")
            ? r
            : undefined;
    } catch {
        return undefined;
    }
}

/** Forgets the record once it has been used. */
export function forgetUndo(dir: string, host: string): void {
    fs.rmSync(undoPath(dir, host), { force: true });
}

/** The stack file's text as project-vm last applied it successfully, and when. */
export interface AppliedRecord {
    /** The text. */
    text: string;
    /** When (ISO 8601). */
    at: string;
}

/** Where the applied record of a host stack is kept. */
export function appliedPath(dir: string, host: string): string {
    return path.join(dir, ".project-vm", `applied.${host}.json`);
}

/** Keeps the text a successful `pulumi up` applied. */
export function recordApplied(dir: string, host: string, text: string): void {
    writeRecord(appliedPath(dir, host), { text, at: new Date().toISOString() });
}

/** The text project-vm last applied, if it has a record. */
export function readApplied(dir: string, host: string): AppliedRecord | undefined {
    try {
        const r = JSON.parse(fs.readFileSync(appliedPath(dir, host), "utf8"));
        return typeof r?.text === "string" && typeof r?.at === "string" ? r : undefined;
    } catch {
        return undefined;
    }
}
