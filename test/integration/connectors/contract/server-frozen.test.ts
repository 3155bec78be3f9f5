import { describeServerLost } from './server-lost.js';

describeServerLost('freeze');
