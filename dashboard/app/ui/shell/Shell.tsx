import Link from "next/link";
export { Panel } from "./Panel";

const PAGES = [
  { href: "/", label: "Overview" },
  { href: "/options", label: "Options" },
  { href: "/models", label: "Models" },
  { href: "/risk", label: "Risk" },
  { href: "/quality", label: "Data quality & pipelines" },
  { href: "/alerts", label: "Alerts" },
];

/** Page chrome: navigation, the signed-in user and sign-out. */
export function Shell({ active, user, title, subtitle, children }: { active: string; user: string; title: string; subtitle?: string; children: React.ReactNode }) {
  return (
    <div className="shell">
      <header className="topbar">
        <span className="brand">cryptoderiv</span>
        <nav>
          {PAGES.map((p) => (
            <Link key={p.href} href={p.href} className={p.href === active ? "active" : undefined} prefetch={false}>
              {p.label}
            </Link>
          ))}
        </nav>
        <form action="/api/auth/sign-out" method="post" className="signout">
          <span className="user">{user}</span>
          <button type="submit">Sign out</button>
        </form>
      </header>
      <main>
        <h1>{title}</h1>
        {subtitle ? <p className="subtitle">{subtitle}</p> : null}
        {children}
      </main>
    </div>
  );
}

export function Notice({ children }: { children: React.ReactNode }) {
  return <div className="notice">{children}</div>;
}
