// End-to-end walk through the web app with Debian's Chromium (playwright-core, no bundled browser).
//
// Driven by tests/e2e/test_web_app.py, which seeds a database, starts the server and passes:
//   E2E_BASE_URL      the server, e.g. http://127.0.0.1:8123
//   E2E_ADMIN_EMAIL, E2E_ADMIN_PASSWORD   an ADMIN user of the seeded org (the full walk)
//   E2E_AGENT_EMAIL, E2E_AGENT_PASSWORD   an AGENT user of the same org (the role checks)
//   E2E_CHROMIUM      the browser (default /usr/bin/chromium)
//   E2E_ARTIFACTS     where downloads and failure screenshots go
//   E2E_SCREENSHOTS   where the README's screenshots go (docs/screenshots)
//   E2E_REPORT_EMAIL  the address the report's Excel request is sent to
// Exit status 0 when every step passed.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BASE = required('E2E_BASE_URL').replace(/\/$/, '');
const ADMIN = { email: required('E2E_ADMIN_EMAIL'), password: required('E2E_ADMIN_PASSWORD') };
const AGENT = { email: required('E2E_AGENT_EMAIL'), password: required('E2E_AGENT_PASSWORD') };
const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = process.env.E2E_ARTIFACTS || 'e2e-artifacts';
const SCREENSHOTS = process.env.E2E_SCREENSHOTS || ARTIFACTS;
const REPORT_EMAIL = process.env.E2E_REPORT_EMAIL || 'reports@e2e.example';
const TIME_ZONE = 'Asia/Kolkata';
const MEMBER = 'E2E-ZARA';
const TIMEOUT = 15_000;

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

mkdirSync(ARTIFACTS, { recursive: true });
mkdirSync(SCREENSHOTS, { recursive: true });

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const context = await browser.newContext({
  viewport: { width: 1440, height: 900 },
  acceptDownloads: true,
  timezoneId: 'America/New_York', // not the org's zone: dates must still show in Asia/Kolkata
});
context.setDefaultTimeout(TIMEOUT);
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));
page.on('console', (msg) => {
  if (msg.type() !== 'error') return;
  console.log(`  [console] ${msg.text()}`);
  // The app must run under the server's Content-Security-Policy without violations.
  if (msg.text().includes('Content Security Policy')) pageErrors.push(msg.text());
});

let passed = 0;
let current = '';

async function step(name, body) {
  current = name;
  const started = Date.now();
  await body();
  passed += 1;
  console.log(`ok ${passed} - ${name} (${Date.now() - started} ms)`);
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

async function expectUrl(pattern) {
  await page.waitForURL(pattern);
}

/** The table named `label` shows a row containing `text`. */
async function expectRow(label, text) {
  const table = page.getByRole('table', { name: label, exact: true });
  await table.waitFor();
  await table.getByRole('row').filter({ hasText: text }).first().waitFor();
}

async function openTab(name) {
  await page.getByRole('tab', { name, exact: true }).click();
}

/** Fills the login page and submits it with Enter, as a keyboard user would. */
async function logIn({ email, password }) {
  await page.getByRole('form', { name: 'Sign in to Member360' }).waitFor();
  // The labels end in a required-field asterisk; the password's eye button is labelled too.
  await page.getByLabel(/^Email/).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByLabel(/^Password/).press('Enter');
}

async function sessionCookies() {
  const cookies = await context.cookies(BASE);
  return {
    session: cookies.find((c) => c.name === 'm360_session'),
    csrf: cookies.find((c) => c.name === 'm360_csrf'),
  };
}

/** Posts a GraphQL document from the page with the session, as the app does. */
async function graphqlFromPage(query, variables = {}) {
  return page.evaluate(
    async ({ query, variables }) => {
      const csrf = document.cookie.split('; ').find((c) => c.startsWith('m360_csrf='))?.slice('m360_csrf='.length);
      const response = await fetch('/graphql', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': decodeURIComponent(csrf ?? '') },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    { query, variables },
  );
}

function todayInZone() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}

function daysBefore(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

try {
  await step('a visitor without a session is sent to login, then to the deep link they opened', async () => {
    await page.goto(`${BASE}/customers/${MEMBER}/transactions/returns`);
    await expectUrl(/\/login\?next=%2Fcustomers%2FE2E-ZARA%2Ftransactions%2Freturns$/);
    await logIn({ email: ADMIN.email, password: 'not-the-password' });
    await page.getByText('That email and password do not match an account').waitFor();
    const cleared = await page.getByLabel(/^Password/).inputValue();
    expect(cleared === '', 'a refused password is cleared');
    await logIn(ADMIN);
    await expectUrl(`${BASE}/customers/${MEMBER}/transactions/returns`);
    await expectRow('Returns', 'E2E-ORD-3');
    const who = await page.getByTestId('signed-in-user').textContent();
    expect(who.includes(ADMIN.email) && who.includes('Admin'), `the header shows the user and role (got ${who})`);
  });

  await step('the session is an HttpOnly cookie; only the CSRF token is readable by the page', async () => {
    const { session, csrf } = await sessionCookies();
    expect(session && session.httpOnly, 'm360_session is set and HttpOnly');
    expect(session.sameSite === 'Lax' && csrf?.sameSite === 'Lax', 'both cookies are SameSite=Lax');
    expect(csrf && !csrf.httpOnly, 'm360_csrf is readable by the page');
    const visible = await page.evaluate(() => document.cookie);
    expect(!visible.includes('m360_session'), 'the page cannot read the session cookie');
    // A GraphQL POST without the CSRF header is refused even with the session cookie.
    const bare = await page.evaluate(async () => {
      const response = await fetch('/graphql', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ query: '{ me { email } }' }),
      });
      return response.status;
    });
    expect(bare === 403, `a POST without X-CSRF-Token is refused with 403 (got ${bare})`);
  });

  await step('search shows members as you type; arrow keys and Enter open one', async () => {
    // A full reload: the session comes back from the cookie (GET /auth/me), not from memory.
    await page.goto(`${BASE}/customers`);
    const input = page.getByRole('searchbox', { name: /Name, mobile, email/ });
    await input.pressSequentially('zara fern', { delay: 30 });
    await expectRow('Members found', 'Zara Fernandes');
    await expectUrl(/\?q=zara\+fern/);
    await input.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    expect(focused === 'Zara Fernandes', `ArrowDown focuses the first result (got ${focused})`);
    await page.keyboard.press('Enter');
    await expectUrl(`${BASE}/customers/${MEMBER}/points/redemptions`);
  });

  await step('search by an exact identifier (mobile) finds the member', async () => {
    await page.goto(`${BASE}/customers?q=9990001111`);
    await expectRow('Members found', 'E2E-ZARA');
    await page.getByRole('link', { name: 'Zara Fernandes' }).click();
    await expectUrl(`${BASE}/customers/${MEMBER}/points/redemptions`);
  });

  await step('the header shows name, identifiers, tier, opt-in and balance', async () => {
    await page.getByTestId('member-name').filter({ hasText: 'Zara Fernandes' }).waitFor();
    const summary = page.getByRole('region', { name: 'Member summary' });
    for (const text of ['E2E-ZARA', '9990001111', 'zara.fernandes@e2e.example', 'EXT-ZARA-77', 'Gold', 'Opted in']) {
      await summary.getByText(text, { exact: false }).first().waitFor();
    }
    const balance = await page.getByTestId('points-balance').textContent();
    expect(balance === '440', `balance 440 (got ${balance})`);
    const zone = await page.getByTestId('org-zone').textContent();
    expect(zone.includes(TIME_ZONE), `the org time zone is shown (got ${zone})`);
  });

  await step('Points > Redemptions: the breakup modal lists the lots and survives a reload', async () => {
    await expectRow('Redemptions', 'E2E-ORD-2');
    const row = page.getByRole('table', { name: 'Redemptions' }).getByRole('row').filter({ hasText: 'E2E-ORD-2' });
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells[1] === '300' && cells[2] === '300', `redeemed 300, reversed 300 (got ${cells.join(' | ')})`);
    await row.getByRole('button', { name: /View breakup/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('table', { name: 'Redemption breakup' }).waitFor();
    const total = await dialog.getByRole('row').filter({ hasText: 'Total' }).textContent();
    expect(total.includes('300'), `the breakup sums to 300 (got ${total})`);
    await expectUrl(/breakup=/);
    await page.reload();
    await page.getByRole('dialog').getByRole('table', { name: 'Redemption breakup' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'detached' });
    expect(!page.url().includes('breakup='), 'closing the modal drops it from the URL');
  });

  const pointsTabs = [
    ['Expiry Schedule', 'Expiry schedule', /\d/],
    ['Expired', 'Expired points', '100'],
    ['Tier History', 'Tier history', 'Gold'],
    ['Promotions', 'Promotions', 'CMP-WELCOME'],
    ['Loyalty Tracker', 'Loyalty tracker', 'Third visit'],
    ['Transfers', 'Transfers', 'E2E-TR-1'],
  ];
  for (const [tab, table, text] of pointsTabs) {
    await step(`Points > ${tab} shows the seeded rows`, async () => {
      await openTab(tab);
      await expectRow(table, text);
    });
  }

  await step('Points > All Activity: running balance and the balance chart', async () => {
    await openTab('All Activity');
    await expectUrl(`${BASE}/customers/${MEMBER}/points/activity`);
    await expectRow('All activity', 'E2E-ORD-2');
    const first = await page.getByRole('table', { name: 'All activity' }).getByRole('row').nth(1).getByRole('cell').nth(3).textContent();
    expect(first === '440', `the newest entry's running balance is the balance (got ${first})`);
    await page.getByTestId('balance-chart').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'member-page.png') });
  });

  await step('Download as Excel: the tab workbook is queued, built and downloaded', async () => {
    const download = page.waitForEvent('download', { timeout: 60_000 });
    await page.getByRole('button', { name: 'Download as Excel' }).click();
    const file = await download;
    const target = join(ARTIFACTS, 'points-activity.xlsx');
    await file.saveAs(target);
    await page.getByTestId('export-link').waitFor();
  });

  await step('Coupons > Issued: Resend mails an active coupon again', async () => {
    await openTab('Coupons');
    await expectUrl(`${BASE}/customers/${MEMBER}/coupons/issued`);
    await expectRow('Issued coupons', 'ZARA-ACTIVE-10');
    const used = page.getByRole('table', { name: 'Issued coupons' }).getByRole('row').filter({ hasText: 'ZARA-USED-20' });
    expect((await used.getByRole('button', { name: /Resend/ }).count()) === 0, 'a redeemed coupon has no Resend button');
    await page.getByRole('button', { name: 'Resend coupon ZARA-ACTIVE-10' }).click();
    await page.getByRole('dialog', { name: 'Resend coupon' }).getByRole('button', { name: 'Send again' }).click();
    await page.getByText('Coupon sent again').waitFor();
    const row = page.getByRole('table', { name: 'Issued coupons' }).getByRole('row').filter({ hasText: 'ZARA-ACTIVE-10' });
    await row.getByRole('cell', { name: '1', exact: true }).waitFor();
  });

  await step('Coupons > Redemptions shows the redeemed coupon', async () => {
    await openTab('Redemptions');
    await expectRow('Coupon redemptions', 'ZARA-USED-20');
  });

  await step('Transactions > Purchases and Returns', async () => {
    await openTab('Transactions');
    await expectRow('Purchases', 'E2E-ORD-1');
    await openTab('Returns');
    await expectRow('Returns', 'E2E-ORD-3');
  });

  await step('Interactions: every channel, including the resent coupon mail', async () => {
    await openTab('Interactions');
    for (const [tab, subject] of [
      ['SMS', 'Zara Sms hello'],
      ['Email', 'Zara Email hello'],
      ['WeChat', 'Zara Wechat hello'],
      ['WebEngage', 'Zara Webengage hello'],
      ['Surveys', 'Zara Survey hello'],
    ]) {
      await openTab(tab);
      await expectRow(`${tab} interactions`, subject);
    }
    await openTab('Email');
    await expectRow('Email interactions', 'Your coupon');
  });

  await step('Behavioral Events: the tracking id opens the details', async () => {
    await openTab('Behavioral Events');
    await expectRow('Behavioral events', 'app.opened');
    await page.getByRole('button', { name: 'E2E-TRK-1' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('table', { name: 'Event attributes' }).getByText('home').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
  });

  await step('Leads and Other Details', async () => {
    await openTab('Leads');
    await expectRow('Leads', 'E2E-LEAD-1');
    await openTab('Other Details');
    await expectRow('Segment history', 'High value');
    await openTab('Identifier Change History');
    await expectRow('Identifier change history', 'EXT-ZARA-77');
  });

  await step('a deep link reopens the same tab after a reload', async () => {
    await page.goto(`${BASE}/customers/${MEMBER}/transactions/returns`);
    await expectRow('Returns', 'E2E-ORD-3');
    await page.reload();
    await expectRow('Returns', 'E2E-ORD-3');
    const selected = await page.getByRole('tab', { name: 'Returns' }).getAttribute('aria-selected');
    expect(selected === 'true', 'the Returns sub-tab is selected');
  });

  await step('paging: Next and Previous over the report keep the cursor in the URL', async () => {
    const today = todayInZone();
    await page.goto(`${BASE}/reports/interactions?from=${daysBefore(today, 119)}&to=${today}`);
    const table = page.getByRole('table', { name: 'All Interactions' });
    await table.waitFor();
    const firstPage = await table.getByRole('row').nth(1).textContent();
    await page.getByRole('button', { name: 'Next' }).click();
    await expectUrl(/after=/);
    await page.waitForFunction(
      (before) => document.querySelector('table[aria-label="All Interactions"] tbody tr')?.textContent !== before,
      firstPage,
    );
    await page.getByText('Page 2').waitFor();
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText('Page 1').waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(SCREENSHOTS, 'report.png') });
  });

  await step('Reports > All Interactions: More filters narrow the rows and the totals', async () => {
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByLabel('Name', { exact: true }).fill('zara');
    await page.getByRole('combobox', { name: 'Action' }).click();
    await page.getByRole('option', { name: '102 - Redemption' }).click();
    await page.getByRole('button', { name: 'Apply' }).click();
    await expectUrl(/name=zara/);
    await expectUrl(/actionId=102/);
    await page
      .waitForFunction(
        () => document.querySelectorAll('table[aria-label="All Interactions"][aria-busy="false"] tbody tr').length === 1,
      )
      .catch(async () => {
        const rows = await page.getByRole('table', { name: 'All Interactions' }).locator('tbody tr').count();
        throw new Error(`one redemption row for Zara (got ${rows})`);
      });
    await expectRow('All Interactions', 'E2E-ORD-2');
    const totals = page.getByTestId('report-totals');
    await totals.getByText('Rows: 1', { exact: false }).waitFor();
    await totals.getByText('Total points: -300', { exact: false }).waitFor();
    await page.reload();
    await expectRow('All Interactions', 'E2E-ORD-2');
    const name = await page.getByLabel('Name', { exact: true }).inputValue();
    expect(name === 'zara', 'the filters come back from the URL after a reload');
  });

  await step('Make an Excel request: the job runs and its link is emailed', async () => {
    await page.getByRole('button', { name: 'Make an Excel request' }).click();
    const dialog = page.getByRole('dialog', { name: 'Make an Excel request' });
    await dialog.getByLabel('Email the link to').fill(REPORT_EMAIL);
    await dialog.getByRole('button', { name: 'Request Excel' }).click();
    await dialog.getByText(`The link was emailed to ${REPORT_EMAIL}`, { exact: false }).waitFor({ timeout: 60_000 });
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
  });

  await step('Exports lists the jobs with their status and download links', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    await expectUrl(`${BASE}/export-jobs`);
    await expectRow('Export jobs', `Email to ${REPORT_EMAIL}`);
    const links = await page.getByRole('table', { name: 'Export jobs' }).getByRole('link', { name: 'Download .xlsx' }).count();
    expect(links >= 2, `both jobs have a link (got ${links})`);
  });

  await step('an unknown app path shows the not-found page, inside the app', async () => {
    await page.goto(`${BASE}/no/such/page`);
    await page.getByText('Page not found').waitFor();
  });

  await step('Sign out ends the session on the server, not just in the page', async () => {
    const { session: before } = await sessionCookies();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectUrl(`${BASE}/login`);
    await page.getByText('You are signed out').waitFor();
    const { session, csrf } = await sessionCookies();
    expect(!session && !csrf, 'both cookies are cleared');
    await page.goto(`${BASE}/customers`);
    await page.getByRole('form', { name: 'Sign in to Member360' }).waitFor();
    // Someone who kept a copy of the cookie gets nothing from it any more.
    await context.addCookies([before]);
    const me = await page.evaluate(async () => (await fetch('/auth/me', { credentials: 'same-origin' })).status);
    expect(me === 401, `GET /auth/me answers 401 for the signed-out session (got ${me})`);
    await context.clearCookies();
  });

  await step('an AGENT signs in on a member deep link and works the member page', async () => {
    await page.goto(`${BASE}/customers/${MEMBER}/coupons/issued`);
    await expectUrl(/\/login\?next=/);
    await logIn(AGENT);
    await expectUrl(`${BASE}/customers/${MEMBER}/coupons/issued`);
    await expectRow('Issued coupons', 'ZARA-ACTIVE-10');
    await page.getByRole('button', { name: 'Resend coupon ZARA-ACTIVE-10' }).waitFor();
    const who = await page.getByTestId('signed-in-user').textContent();
    expect(who.includes(AGENT.email) && who.includes('Agent'), `the header shows the agent (got ${who})`);
  });

  await step("the AGENT's navigation has no Reports", async () => {
    const nav = page.getByRole('navigation', { name: 'Main' });
    const links = await nav.getByRole('link').allTextContents();
    expect(!links.some((l) => l.includes('Reports')), `no Reports entry (got ${links.join(', ')})`);
    expect(links.includes('Members'), `Members is there (got ${links.join(', ')})`);
  });

  await step("the AGENT's Exports page lists only their own jobs: none of the admin's reports", async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Exports' }).click();
    // The admin's report and tab jobs above belong to the admin; this agent requested none.
    await page.getByText('No exports yet. Use “Download as Excel” on a member tab.').waitFor();
    const reportRows = await page.getByText('All Interactions report').count();
    expect(reportRows === 0, `no report job is listed for an AGENT (got ${reportRows})`);
  });

  await step("the report's deep link tells the AGENT it is not for their role; the API refuses it too", async () => {
    const today = todayInZone();
    const from = daysBefore(today, 30);
    await page.goto(`${BASE}/reports/interactions?from=${from}&to=${today}`);
    await page.getByText('Not available for your role').waitFor();
    expect((await page.getByRole('table', { name: 'All Interactions' }).count()) === 0, 'no report table is shown');
    const filter = { from, to: today };
    const report = await graphqlFromPage(
      'query R($filter: InteractionReportFilter!) { interactionReport(filter: $filter, first: 1) { totalCount } }',
      { filter },
    );
    const code = report.body?.errors?.[0]?.extensions?.code;
    expect(code === 'FORBIDDEN', `interactionReport answers FORBIDDEN for an AGENT (got ${JSON.stringify(report)})`);
    const exported = await graphqlFromPage(
      'mutation X($input: RequestExportInput!) { requestExport(input: $input) { id } }',
      { input: { interactionReport: filter, delivery: 'DOWNLOAD' } },
    );
    const exportCode = exported.body?.errors?.[0]?.extensions?.code;
    expect(exportCode === 'FORBIDDEN', `a report export answers FORBIDDEN for an AGENT (got ${JSON.stringify(exported)})`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expectUrl(`${BASE}/login`);
  });

  expect(pageErrors.length === 0, `uncaught errors in the page:\n${pageErrors.join('\n')}`);
  console.log(`${passed} passed, 0 failed`);
} catch (error) {
  console.log(`not ok - ${current}\n  ${String(error?.stack ?? error).split('\n').join('\n  ')}`);
  console.log(`  at ${page.url()}`);
  if (pageErrors.length) console.log(`  page errors:\n  ${pageErrors.join('\n  ')}`);
  await page.screenshot({ path: join(ARTIFACTS, 'failure.png'), fullPage: true }).catch(() => {});
  console.log(`${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
