import { guestSh } from "./test/support/guestAgent";
guestSh("qemu:///system", process.argv[2], process.argv[3]).then((r) => console.log(r.code, r.stdout, r.stderr), (e) => console.log("ERR", e.message));
