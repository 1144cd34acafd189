"use client";
import { useEffect, useRef, useState } from "react";

/** One message of the sidecar protocol (docs: contracts, "Sidecar WebSocket protocol"). */
export type StreamMessage =
  | { type: "subscribed"; channels: string[] }
  | { type: "error"; message: string }
  | { type: "data"; channel: string; data: Record<string, unknown> };

export type StreamState = "connecting" | "connected" | "disconnected";

/** Parse a frame; anything not in the protocol is ignored (null). */
export function parseStreamMessage(raw: unknown): StreamMessage | null {
  if (typeof raw !== "string") return null;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const m = v as Record<string, unknown>;
  if (m.type === "subscribed" && Array.isArray(m.channels)) return { type: "subscribed", channels: m.channels.map(String) };
  if (m.type === "error") return { type: "error", message: String(m.message ?? "") };
  if (m.type === "data" && typeof m.channel === "string" && typeof m.data === "object" && m.data !== null) {
    return { type: "data", channel: m.channel, data: m.data as Record<string, unknown> };
  }
  return null;
}

/** Subscribe to sidecar channels; reconnects with backoff (1 s .. 15 s), also after a 1013 close. */
export function useStream(url: string, channels: string[], onData: (channel: string, data: Record<string, unknown>) => void) {
  const [state, setState] = useState<StreamState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const handler = useRef(onData);
  handler.current = onData;
  const key = channels.join(",");
  useEffect(() => {
    let ws: WebSocket | null = null;
    let closed = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connect = () => {
      setState("connecting");
      try {
        ws = new WebSocket(url);
      } catch {
        setState("disconnected");
        schedule();
        return;
      }
      ws.onopen = () => {
        attempt = 0;
        setState("connected");
        ws?.send(JSON.stringify({ op: "subscribe", channels }));
      };
      ws.onmessage = (ev) => {
        const msg = parseStreamMessage(ev.data);
        if (!msg) return;
        if (msg.type === "data") handler.current(msg.channel, msg.data);
        else if (msg.type === "error") setError(msg.message);
      };
      ws.onclose = () => {
        setState("disconnected");
        if (!closed) schedule();
      };
      ws.onerror = () => ws?.close();
    };
    const schedule = () => {
      attempt += 1;
      timer = setTimeout(connect, Math.min(15_000, 1000 * 2 ** Math.min(attempt - 1, 4)));
    };
    connect();
    return () => {
      closed = true;
      if (timer) clearTimeout(timer);
      ws?.close();
    };
  }, [url, key]); // eslint-disable-line react-hooks/exhaustive-deps
  return { state, error };
}
