// ESLint 9 flat config: ESLint's and typescript-eslint's recommended rules over all TypeScript
// (`npm run lint`, which `npm test` runs after Prettier's check). Layout is Prettier's; the one
// layout rule here is max-len, for what Prettier does not wrap (comments, long expressions).
// Each rule turned off or tuned below says which deliberate pattern of this code it allows.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    { ignores: ["dist/", "node_modules/", "reports/", ".stryker-tmp/", ".e2e-cache/", ".project-vm/", "**/*.tmp.ts"] },
    js.configs.recommended,
    ...tseslint.configs.recommended,
    {
        rules: {
            // A leading underscore names what is held or dropped on purpose: `using _lock = await
            // lockStack(...)` keeps the stack's lock to the end of the block, `{ secret: _, ...rest }`
            // drops a key, `(_, i) =>` skips a parameter.
            "@typescript-eslint/no-unused-vars": [
                "error",
                {
                    varsIgnorePattern: "^_",
                    argsIgnorePattern: "^_",
                    caughtErrorsIgnorePattern: "^_",
                    destructuredArrayIgnorePattern: "^_",
                    ignoreRestSiblings: true,
                },
            ],
            // A `let` that closures read before its one assignment stays a `let` (cli/pulumi.ts: the
            // signal handlers are installed before Pulumi's child process exists; a `const` there
            // would throw if a signal came first).
            "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
            // Patterns over YAML text spell its indentation as it is printed (`/^  project-vms:key:/`),
            // so they read like the stack files they match; `{2}` would hide that.
            "no-regex-spaces": "off",
        },
    },
    {
        // The tests and end-to-end runs read YAML, JSON and Pulumi's state as `any` on purpose: they
        // check shapes the product's types do not describe (hostile files, the engine's own output).
        files: ["test/**", "e2e/**"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        // The .mjs configuration files run on Node.
        files: ["**/*.mjs"],
        languageOptions: { globals: { process: "readonly", console: "readonly" } },
    },
    {
        // Product code stays within 140 columns. Prettier wraps code at 140; what it cannot wrap is
        // allowed: string and template literals (messages are grep-able whole), URLs, regexes.
        files: ["index.ts", "components/**", "cli/**"],
        rules: {
            "max-len": [
                "error",
                {
                    code: 140,
                    tabWidth: 4,
                    ignoreStrings: true,
                    ignoreTemplateLiterals: true,
                    ignoreUrls: true,
                    ignoreRegExpLiterals: true,
                },
            ],
        },
    },
);
