import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: "cryptoderiv",
  description: "Crypto derivatives desk: markets, options, models, risk and data quality",
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
