import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createConsoleRouter } from './app/router.js';
import { createBrowserBridge } from './bridge/browser-bridge.js';
import './styles.css';

// In the desktop app the preload provides the bridge; in a browser the console brings its own.
if (!(window as Partial<Window>).gatehouse) window.gatehouse = createBrowserBridge();

const client = new QueryClient({ defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } } });
const router = createConsoleRouter();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
