# The project-vm CLI as a Nix package, built from this checkout with buildNpmPackage.
#
# Its npm dependencies are fetched one by one from the URLs and integrity hashes that
# package-lock.json pins (nixpkgs' importNpmLock), so there is no separate npmDepsHash to keep in
# step with the lock file. The runtime tools the CLI and the stacks' commands call are on its PATH.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_20,
  makeWrapper,
  pulumi-bin,
  libvirt,
  cdrkit,
  openssh,
  jq,
  curl,
}:

let
  root = ../.;
  package = lib.importJSON (root + "/package.json");
  # What the build reads: the npm manifests, the TypeScript configs and the sources it compiles.
  src = lib.fileset.toSource {
    inherit root;
    fileset = lib.fileset.unions [
      (root + "/package.json")
      (root + "/package-lock.json")
      (root + "/tsconfig.json")
      (root + "/tsconfig.build.json")
      (root + "/cli")
      (root + "/components")
      (root + "/sdks")
    ];
  };
in
buildNpmPackage {
  pname = "project-vm";
  inherit (package) version;
  inherit src;
  nodejs = nodejs_20;

  npmDeps = importNpmLock { npmRoot = root; };
  npmConfigHook = importNpmLock.npmConfigHook;
  # `npm run build`: tsc -p tsconfig.build.json, into dist/ (package.json's files and bin).
  npmBuildScript = "build";

  nativeBuildInputs = [ makeWrapper ];
  postInstall = ''
    wrapProgram "$out/bin/project-vm" --prefix PATH : ${
      lib.makeBinPath [
        pulumi-bin
        nodejs_20
        libvirt
        cdrkit
        openssh
        jq
        curl
      ]
    }
  '';

  meta = {
    description = package.description;
    mainProgram = "project-vm";
    license = lib.licenses.mit;
    platforms = lib.platforms.linux;
  };
}
