// What each `project-vm` command does, one file a command: its logic and its declaration (its
// arguments, flags and action over the Factory's shared Context; cli/main.ts assembles them). Every change goes through a host's
// stack file (edited with its comments kept, validated by the program's own rules, written
// atomically) and then `pulumi up`; read-only commands combine the stack file, the stack's
// outputs and libvirt's live state, and say what they could not see. Everything outside — Pulumi,
// virsh, the terminal — comes in through the Context, so that the orchestration is tested with
// stand-ins.
export * from "./context";
export * from "./create";
export * from "./power";
export * from "./resize";
export * from "./destroy";
export * from "./apply";
export * from "./view";
export * from "./list";
export * from "./status";
export * from "./sshConfig";
export * from "./ssh";
export * from "./logs";
export * from "./doctor";
export * from "./undo";
export * from "./restart";
export * from "./config";
export * from "./base";
export * from "./backup";
export * from "./backups";
export * from "./restore";
export * from "./use";
export * from "./completion";
