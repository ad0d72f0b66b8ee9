// `completion`: the shell completion script, generated from the declared commands and flags.
import { Command } from "commander";
import { completionScript } from "../completion";
import { Declare } from "../factory";

/** `project-vm completion bash|zsh`: completes every command declared on `program`. */
export const declareCompletion: Declare = (program, f) => {
    program
        .command("completion")
        .description('a shell completion script: eval "$(project-vm completion bash)"')
        .addArgument(new Command().createArgument("<shell>", "bash or zsh").choices(["bash", "zsh"]))
        .action((shell: "bash" | "zsh") => {
            f.deps.io.out(completionScript(program, shell));
        });
};
