#include "config.h"

#include <glib/gi18n.h>

#include "condition.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
  MATCH_EXACT,
  MATCH_GLOB,
  MATCH_REGEX,
  MATCH_NUMBER,
  MATCH_CIDR,
} MatchKind;

typedef enum { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE } Comparison;

typedef struct {
  MatchKind kind;
  gboolean negate;
  char *text;
  GPatternSpec *glob;
  GRegex *regex;
  GInetAddressMask *mask;
  Comparison op;
  double number;
} Alternative;

struct _RhCondition {
  char *field;
  GArray *alternatives;  /* Alternative */
};

static void
alternative_clear (gpointer data)
{
  Alternative *a = data;
  g_free (a->text);
  g_clear_pointer (&a->glob, g_pattern_spec_free);
  g_clear_pointer (&a->regex, g_regex_unref);
  g_clear_object (&a->mask);
}

static gboolean
parse_number (const char *text, double *out)
{
  char *end;
  while (g_ascii_isspace (*text))
    text++;
  *out = g_ascii_strtod (text, &end);
  while (g_ascii_isspace (*end))
    end++;
  return end != text && *end == '\0';
}

static gboolean
parse_alternative (Alternative *a, const char *field, RhFieldType type, const char *value,
                   GError **error)
{
  /* "!=" is a comparison; any other leading "!" negates. */
  if (value[0] == '!' && !(type == RH_FIELD_NUMBER && value[1] == '='))
    {
      a->negate = TRUE;
      value++;
    }

  if (value[0] == '~')
    {
      a->kind = MATCH_REGEX;
      a->regex = g_regex_new (value + 1, G_REGEX_DOLLAR_ENDONLY, 0, error);
      if (a->regex == NULL)
        {
          g_prefix_error (error, _("%s: bad regular expression \"%s\": "), field, value + 1);
          return FALSE;
        }
      return TRUE;
    }

  if (type == RH_FIELD_NUMBER)
    {
      static const struct { const char *text; Comparison op; } ops[] = {
        { "<=", OP_LE }, { ">=", OP_GE }, { "==", OP_EQ }, { "!=", OP_NE }, { "<", OP_LT }, { ">", OP_GT },
      };
      a->kind = MATCH_NUMBER;
      a->op = OP_EQ;
      for (gsize i = 0; i < G_N_ELEMENTS (ops); i++)
        if (g_str_has_prefix (value, ops[i].text))
          {
            a->op = ops[i].op;
            value += strlen (ops[i].text);
            break;
          }
      if (!parse_number (value, &a->number))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("%s is numeric: \"%s\" is not a number or a comparison such as \"> 60\""),
                       field, value);
          return FALSE;
        }
      return TRUE;
    }

  if (type == RH_FIELD_BOOLEAN && strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("%s is true or false, not \"%s\""), field,
                   value);
      return FALSE;
    }

  if (type == RH_FIELD_IP && strchr (value, '/') != NULL)
    {
      a->kind = MATCH_CIDR;
      a->mask = g_inet_address_mask_new_from_string (value, error);
      if (a->mask == NULL)
        {
          g_prefix_error (error, _("%s: bad CIDR \"%s\": "), field, value);
          return FALSE;
        }
      return TRUE;
    }

  if (strpbrk (value, "*?[") != NULL)
    {
      a->kind = MATCH_GLOB;
      a->glob = g_pattern_spec_new (value);
      return TRUE;
    }
  a->kind = MATCH_EXACT;
  a->text = g_strdup (value);
  return TRUE;
}

RhCondition *
rh_condition_new (const char *field, RhFieldType field_type, const char *const *values,
                  GError **error)
{
  g_autoptr (RhCondition) condition = g_new0 (RhCondition, 1);
  condition->field = g_strdup (g_str_has_prefix (field, "data.") ? field + 5 : field);
  condition->alternatives = g_array_new (FALSE, TRUE, sizeof (Alternative));
  g_array_set_clear_func (condition->alternatives, alternative_clear);

  for (const char *const *v = values; *v != NULL; v++)
    {
      Alternative a = { 0 };
      /* GRegex and GPatternSpec assume UTF-8: anything else crashes them. */
      if (!g_utf8_validate (*v, -1, NULL))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("%s: a value is not valid UTF-8"),
                       field);
          return NULL;
        }
      if (!parse_alternative (&a, field, field_type, *v, error))
        {
          alternative_clear (&a);
          return NULL;
        }
      g_array_append_val (condition->alternatives, a);
    }
  if (condition->alternatives->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("%s: empty list of values"), field);
      return NULL;
    }
  return g_steal_pointer (&condition);
}

void
rh_condition_free (RhCondition *condition)
{
  if (condition == NULL)
    return;
  g_free (condition->field);
  g_clear_pointer (&condition->alternatives, g_array_unref);
  g_free (condition);
}

static gboolean
compare (Comparison op, double a, double b)
{
  switch (op)
    {
    case OP_LT: return a < b;
    case OP_LE: return a <= b;
    case OP_GT: return a > b;
    case OP_GE: return a >= b;
    case OP_EQ: return a == b;
    case OP_NE: return a != b;
    }
  return FALSE;
}

static gboolean
alternative_matches (const Alternative *a, const char *value)
{
  switch (a->kind)
    {
    case MATCH_EXACT:
      return strcmp (a->text, value) == 0;
    case MATCH_GLOB:
      return g_pattern_spec_match_string (a->glob, value);
    case MATCH_REGEX:
      return g_regex_match (a->regex, value, 0, NULL);
    case MATCH_NUMBER:
      {
        double number;
        return parse_number (value, &number) && compare (a->op, number, a->number);
      }
    case MATCH_CIDR:
      {
        g_autoptr (GInetAddress) address = g_inet_address_new_from_string (value);
        return address != NULL
               && g_inet_address_get_family (address) == g_inet_address_mask_get_family (a->mask)
               && g_inet_address_mask_matches (a->mask, address);
      }
    }
  return FALSE;
}

gboolean
rh_condition_matches (const RhCondition *condition, const RhEvent *event)
{
  g_autofree char *value = rh_event_lookup (event, condition->field);
  if (value == NULL)
    return FALSE;
  for (guint i = 0; i < condition->alternatives->len; i++)
    {
      const Alternative *a = &g_array_index (condition->alternatives, Alternative, i);
      if (alternative_matches (a, value) != a->negate)
        return TRUE;
    }
  return FALSE;
}

char *
rh_condition_describe (const RhCondition *condition)
{
  GString *text = g_string_new (condition->field);
  g_string_append (text, condition->alternatives->len > 1 ? " in [" : " = ");
  for (guint i = 0; i < condition->alternatives->len; i++)
    {
      const Alternative *a = &g_array_index (condition->alternatives, Alternative, i);
      g_string_append_printf (text, "%s\"%s\"", i > 0 ? ", " : "", a->text);
    }
  if (condition->alternatives->len > 1)
    g_string_append_c (text, ']');
  return g_string_free (text, FALSE);
}
