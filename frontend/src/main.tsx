import '@mantine/core/styles.css';
import '@mantine/dates/styles.css';
import '@mantine/notifications/styles.css';
import './app/global.css';

import { MantineProvider, createTheme } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { setNonce } from 'get-nonce';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { App } from './app/App';
import { AuthProvider } from './auth/AuthProvider';
import { CookieSessionStrategy } from './auth/strategy';

const theme = createTheme({
  primaryColor: 'blue',
  defaultRadius: 'sm',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif',
});

// The server's per-response nonce lets Mantine's <style> elements pass the page's CSP.
const nonce = document.querySelector<HTMLMetaElement>('meta[name="csp-nonce"]')?.content;
const styleNonce = nonce && nonce !== '__CSP_NONCE__' ? nonce : undefined;
// Modals lock page scroll with a <style> element of react-remove-scroll, which asks get-nonce.
if (styleNonce) setNonce(styleNonce);

// User login: an HttpOnly session cookie plus the CSRF token the API wants back in a header.
const strategy = new CookieSessionStrategy();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} getStyleNonce={styleNonce ? () => styleNonce : undefined}>
      <Notifications position="top-right" />
      <AuthProvider strategy={strategy}>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </AuthProvider>
    </MantineProvider>
  </StrictMode>,
);
