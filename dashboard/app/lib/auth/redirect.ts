import { NextResponse } from "next/server";

/** 303 to a same-site path with a relative Location (RFC 9110 §10.2.2): behind any host name or proxy
 * the browser stays on the origin it used (``request.url`` may name another host, e.g. localhost). */
export function seeOther(pathWithQuery: string): NextResponse {
  return new NextResponse(null, { status: 303, headers: { location: pathWithQuery } });
}
