/** Route modules of the example app, one per scheme; each scheme appends its own line. */
import type { RouteModule } from '../context.js';
import { mountApiJwt } from './apijwt.js';

export const routeModules: Array<[name: string, mount: RouteModule]> = [['APIJwt (Authorization: Bearer)', mountApiJwt]];
