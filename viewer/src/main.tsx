/**
 * The record page. The SMART token exchange and the record read start first (startEarly); React
 * and the app load alongside them (a separate chunk), so neither waits for the other.
 */
import 'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css';
import './styles/viewer.css';
import { startEarly } from './session.ts';

startEarly();
void import('./mount.tsx').then((m) => m.mount(document.getElementById('root')!));
