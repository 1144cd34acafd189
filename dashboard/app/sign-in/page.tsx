import { z } from "zod";

export const dynamic = "force-dynamic";

const MESSAGES: Record<string, string> = {
  credentials: "Wrong user name or password.",
  rate: "Too many failed attempts. Wait a minute and try again.",
  invalid: "Enter a user name and a password.",
  config: "Sign-in is not configured on the server (DASHBOARD_USERS / DASHBOARD_SESSION_SECRET).",
};

const params = z.object({
  error: z.enum(["credentials", "rate", "invalid", "config"]).optional(),
  next: z.string().max(512).regex(/^\/(?!\/)/).optional(),
  signed_out: z.string().optional(),
});

export default async function SignIn({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const raw = await searchParams;
  const parsed = params.safeParse(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])));
  const p = parsed.success ? parsed.data : {};
  return (
    <main className="signin">
      <form action="/api/auth/sign-in" method="post" className="signin-card">
        <h1>cryptoderiv</h1>
        <p className="subtitle">Sign in to the desk dashboard</p>
        {p.error ? (
          <p className="error" role="alert" data-testid="sign-in-error">
            {MESSAGES[p.error]}
          </p>
        ) : null}
        {p.signed_out ? <p className="ok">Signed out.</p> : null}
        <label>
          User
          <input name="user" autoComplete="username" required maxLength={64} autoFocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required maxLength={256} />
        </label>
        {p.next ? <input type="hidden" name="next" value={p.next} /> : null}
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}
