/*
 * An IAM-like service on Express 5, put on the audit trail with @crumbtrail/instrumentation:
 *   1. `startAuditTrail` once, before serving (at the bottom of this file);
 *   2. `auditMiddleware` first, with how to tell who is calling;
 *   3. `audit({ … })` on each route: its event name, the resources it touches and, for calls that
 *      change something, the request parameters worth keeping;
 *   4. `auditErrorHandler` after the routes, so a thrown error gives its code and message.
 * The handlers themselves know nothing about auditing.
 *
 *   node --import tsx instrumentation/demo/services/iam-service.ts --port 8081 --otlp http://127.0.0.1:4318
 */
import { createServer } from 'node:http';
import express from 'express';
import type { Express, NextFunction, Request, Response } from 'express';
import { ATTR_CLOUD_ACCOUNT_ID, ATTR_CLOUD_REGION } from '@crumbtrail/instrumentation';
import { audit, auditErrorHandler, auditMiddleware } from '@crumbtrail/instrumentation/express';
import { startAuditTrail } from '@crumbtrail/instrumentation/sdk';
import type { AuditResource } from '@crumbtrail/instrumentation';
import { ACCOUNT_ID, DEMO_SERVICE_VERSION, EVENT_SOURCES, REGION, userArn } from '../directory/account.js';
import { INITIAL_IAM_USERS } from '../directory/initial-state.js';
import { alreadyExists, notFound } from '../directory/service-errors.js';
import { TRUSTED_PROXIES, auditIdentity, authorize, isConsoleRequest } from './caller-auth.js';
import { errorAnswer, requiredField, stringField, successfulResponseBody } from './route-helpers.js';
import { nodeServerListener, serveUntilStopped, serviceProcessOptions } from './service-runtime.js';

interface IamUser {
  userName: string;
  arn: string;
  attachedPolicies: string[];
}

function userResources(userName: string | undefined): AuditResource[] {
  return userName === undefined ? [] : [{ type: 'User', name: userName, arn: userArn(userName) }];
}

/** The route's :userName (Express 5 types route params as string | string[], for wildcards). */
function userNameParam(req: Request): string {
  const value = req.params.userName;
  return typeof value === 'string' ? value : '';
}

function policyResources(policyArn: string | undefined): AuditResource[] {
  return policyArn === undefined
    ? []
    : [{ type: 'Policy', name: policyArn.slice(policyArn.lastIndexOf('/') + 1), arn: policyArn }];
}

export function createIamApp(): Express {
  const users = new Map<string, IamUser>(
    INITIAL_IAM_USERS.map((userName) => [
      userName,
      { userName, arn: userArn(userName), attachedPolicies: [] },
    ]),
  );
  const existingUser = (userName: string): IamUser => {
    const user = users.get(userName);
    if (user === undefined) throw notFound('User', userName);
    return user;
  };

  const app = express();
  app.use(express.json());
  // First, so that every call is audited: also the ones that fail authentication or validation.
  app.use(
    auditMiddleware({
      eventSource: EVENT_SOURCES.iam,
      identity: auditIdentity,
      isConsoleRequest,
      trustProxy: TRUSTED_PROXIES,
    }),
  );

  app.post(
    '/users',
    audit({
      eventName: 'CreateUser',
      resources: (req) => userResources(stringField(req.body, 'userName')),
      // Opt-in, and chosen field by field: what the caller asked for, never the whole body.
      requestParameters: (req) => ({ userName: stringField(req.body, 'userName') }),
      responseElements: successfulResponseBody,
    }),
    (req, res) => {
      const userName = requiredField(req.body, 'userName');
      authorize(req, 'iam:CreateUser', userArn(userName));
      if (users.has(userName)) throw alreadyExists('User', userName);
      const user: IamUser = { userName, arn: userArn(userName), attachedPolicies: [] };
      users.set(userName, user);
      res.status(201).json({ user: { userName, arn: user.arn, path: '/' } });
    },
  );

  app.delete(
    '/users/:userName',
    audit({
      eventName: 'DeleteUser',
      resources: (req) => userResources(userNameParam(req)),
      requestParameters: (req) => ({ userName: userNameParam(req) }),
    }),
    (req, res) => {
      const userName = userNameParam(req);
      authorize(req, 'iam:DeleteUser', userArn(userName));
      existingUser(userName);
      users.delete(userName);
      res.status(204).end();
    },
  );

  app.post(
    '/users/:userName/attached-policies',
    audit({
      eventName: 'AttachUserPolicy',
      resources: (req) => [
        ...userResources(userNameParam(req)),
        ...policyResources(stringField(req.body, 'policyArn')),
      ],
      requestParameters: (req) => ({
        userName: userNameParam(req),
        policyArn: stringField(req.body, 'policyArn'),
      }),
    }),
    (req, res) => {
      const userName = userNameParam(req);
      const policyArn = requiredField(req.body, 'policyArn');
      authorize(req, 'iam:AttachUserPolicy', userArn(userName));
      const user = existingUser(userName);
      if (!user.attachedPolicies.includes(policyArn)) user.attachedPolicies.push(policyArn);
      res.status(204).end();
    },
  );

  // Reads: readOnly comes from the method, and their parameters are not worth recording.
  app.get('/users', audit({ eventName: 'ListUsers' }), (req, res) => {
    authorize(req, 'iam:ListUsers', userArn('*'));
    res.json({ users: [...users.values()].map(({ userName, arn }) => ({ userName, arn })) });
  });

  app.get(
    '/users/:userName',
    audit({ eventName: 'GetUser', resources: (req) => userResources(userNameParam(req)) }),
    (req, res) => {
      const userName = userNameParam(req);
      authorize(req, 'iam:GetUser', userArn(userName));
      const user = existingUser(userName);
      res.json({ user: { userName, arn: user.arn, attachedPolicies: user.attachedPolicies } });
    },
  );

  // After the routes: a thrown error gives the event its errorCode and errorMessage…
  app.use(auditErrorHandler());
  // …and then the caller its answer.
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const answer = errorAnswer(error);
    res.status(answer.status).json(answer.body);
  });
  return app;
}

const options = serviceProcessOptions();
// Before serving: it registers the OpenTelemetry SDK the adapters record with, exporting over OTLP.
// No HttpInstrumentation is needed: without it the adapters start each call's server span themselves.
const trail = startAuditTrail({
  serviceName: 'iam',
  serviceVersion: DEMO_SERVICE_VERSION,
  endpoint: options.otlp,
  // The events' awsRegion and recipientAccountId.
  resourceAttributes: { [ATTR_CLOUD_REGION]: REGION, [ATTR_CLOUD_ACCOUNT_ID]: ACCOUNT_ID },
});
await serveUntilStopped('iam', nodeServerListener(createServer(createIamApp())), trail, options);
