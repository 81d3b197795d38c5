import { expect } from 'vitest';
import type { FlagMetadata } from '@openfeature/core';
import type { Client, EvaluationContext } from '@openfeature/server-sdk';
import type { Evaluator } from '../../src/evaluator/index.js';
import { Steps } from './gherkin.js';

export type FlagType = 'Boolean' | 'String' | 'Integer' | 'Float' | 'Object';

/** What an evaluation step checks, from the evaluator or from the OpenFeature SDK. */
export interface Details {
  readonly value: unknown;
  readonly variant?: string | undefined;
  readonly reason?: string | undefined;
  readonly errorCode?: string | undefined;
  readonly flagMetadata: FlagMetadata;
}

/** The state every scenario builds up: the flag asked for, the context, the result. */
export interface FlagWorld {
  flag?: { type: FlagType; key: string; defaultValue: unknown };
  context: Record<string, unknown>;
  result?: Details;
}

/** A scenario run against the evaluator itself. */
export interface EvaluationWorld extends FlagWorld {
  evaluator: Evaluator;
}

/** A gherkin cell converted to the flag type or context type it stands for. */
export function typedValue(type: string, text: string): unknown {
  switch (type) {
    case 'Boolean':
      return text === 'true';
    case 'Integer':
    case 'Long':
      return Number.parseInt(text, 10);
    case 'Float':
      return Number.parseFloat(text);
    case 'Object':
      return JSON.parse(text);
    default:
      return text;
  }
}

/** Evaluates the scenario's flag with the evaluator's typed resolver. */
export function evaluateWithEvaluator(world: EvaluationWorld): Details {
  const { evaluator, flag, context } = world;
  if (flag === undefined) throw new Error('no flag was given');
  const { key, defaultValue } = flag;
  switch (flag.type) {
    case 'Boolean':
      return evaluator.resolveBoolean(key, defaultValue as boolean, context);
    case 'String':
      return evaluator.resolveString(key, defaultValue as string, context);
    case 'Integer':
      return evaluator.resolveInteger(key, defaultValue as number, context);
    case 'Float':
      return evaluator.resolveNumber(key, defaultValue as number, context);
    case 'Object':
      return evaluator.resolveObject(key, defaultValue as never, context);
  }
}

/** Evaluates the scenario's flag through an OpenFeature client, as an application would. */
export async function evaluateWithClient(
  world: FlagWorld & { client?: Client | undefined },
): Promise<Details> {
  const { client, flag } = world;
  if (client === undefined || flag === undefined) throw new Error('no provider or no flag');
  const context = world.context as EvaluationContext;
  const { key, defaultValue } = flag;
  switch (flag.type) {
    case 'Boolean':
      return client.getBooleanDetails(key, defaultValue as boolean, context);
    case 'String':
      return client.getStringDetails(key, defaultValue as string, context);
    case 'Integer':
    case 'Float':
      return client.getNumberDetails(key, defaultValue as number, context);
    case 'Object':
      return client.getObjectDetails(key, defaultValue as never, context);
  }
}

const result = (world: FlagWorld): Details => {
  if (world.result === undefined) throw new Error('the flag was not evaluated');
  return world.result;
};

/**
 * The flagd testbed's evaluation steps, shared by the evaluator suites and the provider suites;
 * `evaluate` decides how a flag is evaluated. Setup steps are added by each suite.
 */
export function evaluationSteps<W extends FlagWorld>(
  evaluate: (world: W) => Details | Promise<Details>,
): Steps<W> {
  return new Steps<W>()
    .define(
      /^an? (\w+)-flag with key "(.*)" and a (?:default|fallback) value "(.*)"$/,
      (w, [type, key, value]) => {
        w.flag = {
          type: type as FlagType,
          key: key as string,
          defaultValue: typedValue(type as string, value as string),
        };
      },
    )
    .define(
      /^a context containing a key "(.*)", with type "(\w+)" and with value "(.*)"$/,
      (w, [key, type, value]) => {
        w.context[key as string] = typedValue(type as string, value as string);
      },
    )
    .define(/^a context containing a targeting key with value "(.*)"$/, (w, [value]) => {
      w.context['targetingKey'] = value;
    })
    .define(
      /^a context containing a nested property with outer key "(.*)" and inner key "(.*)", with value "(.*)"$/,
      (w, [outer, inner, value]) => {
        w.context[outer as string] = { [inner as string]: value };
      },
    )
    .define(/^the flag was evaluated with details$/, async (w) => {
      w.result = await evaluate(w);
    })
    .define(/^the resolved details value should be "(.*)"$/, (w, [value]) => {
      const type = w.flag?.type ?? 'String';
      expect(result(w).value).toEqual(typedValue(type, value as string));
    })
    .define(/^the reason should be "(.*)"$/, (w, [reason]) => {
      expect(result(w).reason).toBe(reason);
    })
    .define(/^the error-code should be "(.*)"$/, (w, [code]) => {
      expect(result(w).errorCode ?? '').toBe(code);
    })
    .define(/^the variant should be "(.*)"$/, (w, [variant]) => {
      expect(result(w).variant).toBe(variant);
    })
    .define(/^the resolved metadata should contain$/, (w, _args, table) => {
      const rows = (table ?? []).slice(1);
      expect(rows.length).toBeGreaterThan(0);
      for (const [key, type, value] of rows) {
        expect(result(w).flagMetadata[key as string]).toEqual(
          typedValue(type as string, value as string),
        );
      }
    })
    .define(/^the resolved metadata is empty$/, (w) => {
      expect(result(w).flagMetadata).toEqual({});
    });
}
