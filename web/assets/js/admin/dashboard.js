/**
 * The dashboard.
 */

import { start } from './shell.js';

start();
