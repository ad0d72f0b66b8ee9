// Writes Pulumi.yaml from the option declarations (components/configOptions.ts): `npm run gen:pulumi-yaml`.
import * as fs from "node:fs";
import * as path from "node:path";
import { pulumiYamlText } from "../components/pulumiYaml";

const file = path.join(__dirname, "..", "Pulumi.yaml");
fs.writeFileSync(file, pulumiYamlText());
console.log(`wrote ${file}`);
