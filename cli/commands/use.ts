// `use`: the host to work on when neither -H nor $PROJECT_VM_HOST names one, remembered.
import { Command } from "commander";
import { Declare } from "../factory";
import { pickHost, rememberedHost, rememberHost } from "../stacks";

/** `project-vm use [host] [--forget]`: without a host, prints the remembered one. */
export const declareUse: Declare = (program, f) => {
    program
        .command("use")
        .description("remember the host to work on when -H and $PROJECT_VM_HOST say none (--forget: remember none)")
        .argument("[host]", "a host stack of the project")
        .option("--forget", "forget the remembered host")
        .action(async (host: string | undefined, o, c: Command) => {
            const { env, io } = f.deps;
            const w = f.where(c);
            if (o.forget) {
                const file = rememberHost(env, undefined);
                io.err(`project-vm: no host remembered (${file})`);
                return;
            }
            if (host === undefined) {
                const remembered = rememberedHost(env);
                io.out(remembered ?? "");
                if (!remembered) io.err("project-vm: no host remembered: 'project-vm use <host>' remembers one");
                return;
            }
            const picked = pickHost(w.hosts, { host, env: {} });
            const file = rememberHost(env, picked);
            io.err(`project-vm: ${picked} is the host from now on, unless -H or $PROJECT_VM_HOST says otherwise (${file})`);
        });
};
