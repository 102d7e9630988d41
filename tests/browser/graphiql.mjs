// Opens lianxin's GraphiQL page in headless Chromium, runs `me` without and then with a token
// header, opens the documentation explorer and finds a type in it (the schema was loaded by
// introspection), shows Chinese enum labels in a CJK font, and prints what it saw as one JSON line. Called by tests/api/browser.rs:
//   node tests/browser/graphiql.mjs <base-url> <token> <screenshot.png>
import { chromium } from "playwright-core";

const [base, token, screenshot] = process.argv.slice(2);
if (!base || !token || !screenshot) {
  console.error("usage: graphiql.mjs <base-url> <token> <screenshot.png>");
  process.exit(2);
}

const browser = await chromium.launch({
  executablePath: process.env.LIANXIN_CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const report = { foreignRequests: [], pageErrors: [] };
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const origin = new URL(base).origin;
  page.on("request", (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith("data:")) report.foreignRequests.push(url);
  });
  page.on("pageerror", (err) => report.pageErrors.push(String(err)));

  await page.goto(`${base}/graphql`);
  await page.waitForSelector(".graphiql-container", { timeout: 20000 });
  report.title = await page.title();

  // Sets a CodeMirror editor's text the way typing would (change events fire).
  const setEditor = (selector, text) =>
    page.evaluate(
      ([sel, value]) => {
        const el = document.querySelector(sel);
        if (!el || !el.CodeMirror) throw new Error(`no editor at ${sel}`);
        el.CodeMirror.setValue(value);
      },
      [selector, text],
    );
  const resultText = () =>
    page.evaluate(() => {
      const el = document.querySelector(".graphiql-response .CodeMirror");
      return el && el.CodeMirror ? el.CodeMirror.getValue() : "";
    });
  const run = async (expect) => {
    await page.click(".graphiql-execute-button");
    await page
      .waitForFunction(
      (needle) => {
        const el = document.querySelector(".graphiql-response .CodeMirror");
        return el && el.CodeMirror && el.CodeMirror.getValue().includes(needle);
      },
      expect,
      { timeout: 20000 },
    )
      .catch(async (e) => {
        throw new Error(`waiting for ${expect}: the result pane shows ${await resultText()}: ${e}`);
      });
    return resultText();
  };

  await setEditor(".graphiql-query-editor .CodeMirror", "query Me {\n  me {\n    username\n    roles { role }\n  }\n}\n");

  // Without a header the viewer is anonymous.
  report.anonymous = JSON.parse(await run('"me"'));

  // With the token in the Headers editor the same query answers for the user.
  await page.getByRole("button", { name: "Headers" }).click();
  await setEditor(
    ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror",
    JSON.stringify({ Authorization: `Bearer ${token}` }),
  );
  await setEditor(".graphiql-query-editor .CodeMirror", "query Me {\n  me {\n    username\n    roles { role }\n  }\n}\n# with token\n");
  report.withToken = JSON.parse(await run('"username"'));

  // Chinese labels in the result pane, drawn with a CJK font (Debian fonts-noto-cjk): the
  // screenshot shows 汉字, not boxes.
  await setEditor(
    ".graphiql-query-editor .CodeMirror",
    'query Me {\n  me {\n    username\n  }\n  enumLabels(type: "WishStatus") {\n    value\n    label\n  }\n}\n',
  );
  report.labels = JSON.parse(await run('"label"'));
  // Two different characters drawn in the page's font differ pixel by pixel; missing glyphs
  // are drawn as the same box.
  report.cjkGlyphsDiffer = await page.evaluate(() => {
    const draw = (ch) => {
      const c = document.createElement("canvas");
      c.width = 48;
      c.height = 48;
      const g = c.getContext("2d");
      g.font = "32px sans-serif";
      g.fillText(ch, 4, 36);
      return Array.from(g.getImageData(0, 0, 48, 48).data).join(",");
    };
    return draw("已") !== draw("发") && draw("发") !== draw("布");
  });

  // The documentation explorer loads the schema by introspection: open it, follow the
  // query root and find a field and a type in it.
  await page.click('[aria-label="Show Documentation Explorer"]');
  const explorer = page.locator(".graphiql-doc-explorer");
  await explorer.waitFor({ timeout: 20000 });
  await explorer.getByText("Query", { exact: true }).first().click({ timeout: 20000 });
  await explorer.getByText("wishes", { exact: true }).first().waitFor({ timeout: 20000 });
  report.docs = { wishesField: true };
  await explorer.getByText("WishConnection", { exact: true }).first().click({ timeout: 20000 });
  await explorer.getByText("totalCount", { exact: true }).first().waitFor({ timeout: 20000 });
  report.docs.typeTitle = (await explorer.locator(".graphiql-doc-explorer-title").first().innerText()).trim();
  report.docs.errorShown = (await page.getByText("Error fetching schema").count()) > 0;
  // Back to the query root for the screenshot: the explorer lists Query's fields.
  await explorer.locator(".graphiql-doc-explorer-back").first().click({ timeout: 20000 });
  await explorer.getByText("wishes", { exact: true }).first().waitFor({ timeout: 20000 });
  report.docs.shownTitle = (await explorer.locator(".graphiql-doc-explorer-title").first().innerText()).trim();
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (err) {
  report.failure = String(err && err.stack ? err.stack : err);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
