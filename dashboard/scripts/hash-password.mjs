// Print a scrypt hash for DASHBOARD_USERS: `npm run hash-password` (reads the password from stdin).
import { scrypt, randomBytes } from "node:crypto";
import { createInterface } from "node:readline";

const rl = createInterface({ input: process.stdin });
const password = await new Promise((resolve) => rl.once("line", resolve));
rl.close();
if (!password) {
  console.error("empty password");
  process.exit(2);
}
const salt = randomBytes(16);
const [N, r, p] = [16384, 8, 1];
scrypt(password, salt, 32, { N, r, p }, (err, key) => {
  if (err) throw err;
  console.log(`scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${key.toString("base64")}`);
});
