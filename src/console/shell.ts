// The page every /console path answers with: static, holding no ledger value (the script fills <main> from
// the API in the browser, as text), loading its script and style from this service by content hash.
export function renderShell(assets: { scriptEtag: string; styleEtag: string }): string {
  const v = (etag: string) => encodeURIComponent(etag.replaceAll('"', ''));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Clearframe console</title>
<link rel="stylesheet" href="/console/assets/console.css?v=${v(assets.styleEtag)}">
<script type="module" src="/console/assets/console.js?v=${v(assets.scriptEtag)}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<header class="top"><p class="brand">Clearframe</p><nav id="nav" aria-label="Console"></nav></header>
<main id="main" tabindex="-1"><noscript><p>The console needs JavaScript; the API works without it (see /docs).</p></noscript></main>
</body>
</html>
`;
}
