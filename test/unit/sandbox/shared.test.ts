import { AutoScalingServiceException } from '@aws-sdk/client-auto-scaling';
import {
  badRequest,
  clientError,
  dispatch,
  lookupOperation,
  operation,
  requiredWith,
  type OperationTable,
} from '../../../sandbox/services/shared';

class MissingError extends Error {
  constructor(readonly field: string) {
    super(`missing ${field}`);
    this.name = 'MissingError';
  }
}

function table(): OperationTable {
  return {
    Echo: operation((input: { value: string }) => ({ echoed: input.value })),
  };
}

const unknown = (name: string) => new Error(`unknown ${name}`);

describe('shared service helpers', () => {
  describe('clientError', () => {
    it("builds the service's exception as the SDK parses an unmodeled 400", () => {
      const error = clientError(AutoScalingServiceException, 'ValidationError', 'bad');
      expect(error).toBeInstanceOf(AutoScalingServiceException);
      expect(error).toMatchObject({ name: 'ValidationError', $fault: 'client', message: 'bad' });
      expect(error.$metadata).toEqual({ httpStatusCode: 400 });
    });

    it('gives every error its own $metadata (the SDK writes attempts into it)', () => {
      const first = clientError(AutoScalingServiceException, 'ValidationError', 'a');
      const second = clientError(AutoScalingServiceException, 'ValidationError', 'b');
      expect(first.$metadata).not.toBe(second.$metadata);
      expect(badRequest().$metadata).not.toBe(badRequest().$metadata);
    });
  });

  describe('requiredWith', () => {
    it('returns a present value and refuses undefined and null with the error naming the field', () => {
      const required = requiredWith((field) => new MissingError(field));
      expect(required('x', 'name')).toBe('x');
      expect(required(0, 'count')).toBe(0);
      expect(() => required(undefined, 'name')).toThrow(new MissingError('name'));
      expect(() => required(null, 'name')).toThrow(MissingError);
    });

    it('accepts the empty string unless the protocol counts it as missing', () => {
      const lenient = requiredWith((field) => new MissingError(field));
      const strict = requiredWith((field) => new MissingError(field), { emptyStringIsMissing: true });
      expect(lenient('', 'name')).toBe('');
      expect(() => strict('', 'name')).toThrow(new MissingError('name'));
    });
  });

  describe('operation tables', () => {
    it("answers an operation with its row's result", async () => {
      await expect(dispatch(table(), 'Echo', { value: 'hi' }, unknown)).resolves.toEqual({ echoed: 'hi' });
    });

    it('refuses an operation the table does not hold, as a rejection', async () => {
      await expect(dispatch(table(), 'Nope', {}, unknown)).rejects.toThrow('unknown Nope');
    });

    it("refuses names an object inherits (toString, constructor), which are no service's operations", () => {
      expect(() => lookupOperation(table(), 'toString', unknown)).toThrow('unknown toString');
      expect(() => lookupOperation(table(), 'constructor', unknown)).toThrow('unknown constructor');
    });
  });
});
