import type { NextRequest } from "next/server";
import { seeOther } from "@/app/lib/auth/redirect";
import { SESSION_COOKIE } from "@/app/lib/auth/session";

export const dynamic = "force-dynamic";

export async function POST(_request: NextRequest) {
  const res = seeOther("/sign-in?signed_out=1");
  res.cookies.set(SESSION_COOKIE, "", { httpOnly: true, sameSite: "lax", path: "/", maxAge: 0 });
  return res;
}
