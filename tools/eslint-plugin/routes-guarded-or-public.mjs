/**
 * Every HTTP route of a Nest controller is either behind an auth guard or openly public, with
 * the reason written where reviewers read it. No service installs a global guard, so a route
 * that forgets `@UseGuards(AuthGuard)` would silently serve anyone; `@Public('<why>')` makes that
 * a decision instead of an omission. (In the spirit of Twenty's
 * `rest-api-methods-should-be-guarded`.)
 */

const ROUTE_DECORATORS = new Set([
  'Get',
  'Post',
  'Put',
  'Patch',
  'Delete',
  'All',
  'Head',
  'Options',
]);

/** `Get` for `@Get()`, `@Get`, `@common.Get()`. */
function decoratorName(decorator) {
  let expression = decorator.expression;
  if (expression.type === 'CallExpression') expression = expression.callee;
  if (expression.type === 'Identifier') return expression.name;
  if (expression.type === 'MemberExpression' && expression.property.type === 'Identifier') {
    return expression.property.name;
  }
  return undefined;
}

function args(decorator) {
  return decorator.expression.type === 'CallExpression' ? decorator.expression.arguments : [];
}

function find(node, name) {
  return (node.decorators ?? []).find((d) => decoratorName(d) === name);
}

/** `@UseGuards(...)` with at least one guard; `@UseGuards()` guards nothing. */
function guarded(node) {
  const useGuards = find(node, 'UseGuards');
  return useGuards !== undefined && args(useGuards).length > 0;
}

/** A reason is a string literal (or a template without placeholders) with text in it. */
function hasReason(publicDecorator) {
  const [reason] = args(publicDecorator);
  if (reason?.type === 'Literal')
    return typeof reason.value === 'string' && reason.value.trim() !== '';
  if (reason?.type === 'TemplateLiteral' && reason.expressions.length === 0) {
    return (reason.quasis[0]?.value.cooked ?? '').trim() !== '';
  }
  return false;
}

function memberName(member) {
  if (member.key.type === 'Identifier' || member.key.type === 'PrivateIdentifier') {
    return member.key.name;
  }
  return member.key.type === 'Literal' ? String(member.key.value) : '[computed]';
}

/** @type {import('eslint').Rule.RuleModule} */
export const routesGuardedOrPublic = {
  meta: {
    type: 'problem',
    docs: {
      description:
        'require every HTTP route of a @Controller() to have an auth guard (@UseGuards) or an explicit @Public(reason)',
    },
    schema: [],
    messages: {
      unguarded:
        "Route {{route}} is neither guarded nor public: add @UseGuards(AuthGuard) to it or its controller, or mark it @Public('<why it needs no token>').",
      noReason:
        "@Public on {{target}} needs a reason: a non-empty string literal saying why it needs no token, e.g. @Public('health probes: the kubelet has no token').",
    },
  },
  create(context) {
    function checkClass(node) {
      if (!find(node, 'Controller')) return;
      const className = node.id?.name ?? '(anonymous controller)';
      const classPublic = find(node, 'Public');
      if (classPublic && !hasReason(classPublic)) {
        context.report({ node: classPublic, messageId: 'noReason', data: { target: className } });
      }
      const classCovered = guarded(node) || classPublic !== undefined;
      for (const member of node.body.body) {
        if (member.type !== 'MethodDefinition') continue;
        const route = (member.decorators ?? []).find((d) => ROUTE_DECORATORS.has(decoratorName(d)));
        const methodPublic = find(member, 'Public');
        const target = `${className}.${memberName(member)}`;
        if (methodPublic && !hasReason(methodPublic)) {
          context.report({ node: methodPublic, messageId: 'noReason', data: { target } });
        }
        if (!route || classCovered || guarded(member) || methodPublic) continue;
        context.report({
          node: member.key,
          messageId: 'unguarded',
          data: { route: `${target} (@${decoratorName(route)})` },
        });
      }
    }
    return { ClassDeclaration: checkClass, ClassExpression: checkClass };
  },
};
