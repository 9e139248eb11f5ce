#include "config.h"

#include <glib/gi18n.h>

#include "template.h"

#include <gio/gio.h>
#include <string.h>

typedef enum {
  FILTER_NONE,
  FILTER_URL,
  FILTER_JSON,
  FILTER_UPPER,
  FILTER_LOWER,
  FILTER_UNSET,         /* none written: as FILTER_NONE, or FILTER_URL in a URL */
} Filter;

typedef struct {
  char *literal;        /* a literal piece, or NULL for a variable */
  char *name;           /* field name, or "env.NAME" */
  char *fallback;       /* NULL: no default */
  Filter filter;
} Piece;

struct _RhTemplate {
  char *text;
  GArray *pieces;       /* Piece */
};

static void
piece_clear (gpointer data)
{
  Piece *p = data;
  g_free (p->literal);
  g_free (p->name);
  g_free (p->fallback);
}

static gboolean
valid_name (const char *name)
{
  if (*name == '\0')
    return FALSE;
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '_' && *c != '.')
      return FALSE;
  return TRUE;
}

static gboolean
parse_variable (Piece *piece, const char *body, GError **error)
{
  static const struct { const char *name; Filter filter; } filters[] = {
    { "url", FILTER_URL }, { "json", FILTER_JSON }, { "upper", FILTER_UPPER }, { "lower", FILTER_LOWER },
    { "raw", FILTER_NONE },
  };
  g_autofree char *spec = g_strdup (body);
  char *bar = strrchr (spec, '|');
  char *dash = strstr (spec, ":-");

  if (bar != NULL && (dash == NULL || bar > dash))
    {
      *bar = '\0';
      gsize i;
      for (i = 0; i < G_N_ELEMENTS (filters); i++)
        if (strcmp (bar + 1, filters[i].name) == 0)
          break;
      if (i == G_N_ELEMENTS (filters))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("unknown template filter \"%s\" (url, json, upper, lower, raw)"), bar + 1);
          return FALSE;
        }
      piece->filter = filters[i].filter;
    }
  if (dash != NULL)
    {
      *dash = '\0';
      piece->fallback = g_strdup (dash + 2);
    }
  if (!valid_name (spec) || (g_str_has_prefix (spec, "env.") && spec[4] == '\0'))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("bad template variable \"${%s}\""), body);
      return FALSE;
    }
  piece->name = g_strdup (spec);
  return TRUE;
}

RhTemplate *
rh_template_new (const char *text, GError **error)
{
  g_autoptr (RhTemplate) template_ = g_new0 (RhTemplate, 1);
  GString *literal = g_string_new (NULL);

  template_->text = g_strdup (text);
  template_->pieces = g_array_new (FALSE, TRUE, sizeof (Piece));
  g_array_set_clear_func (template_->pieces, piece_clear);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (p[0] == '$' && p[1] == '$')
        {
          g_string_append_c (literal, '$');
          p++;
          continue;
        }
      if (p[0] != '$' || p[1] != '{')
        {
          g_string_append_c (literal, *p);
          continue;
        }
      const char *end = strchr (p, '}');
      if (end == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("unterminated \"${\" in \"%s\""), text);
          g_string_free (literal, TRUE);
          return NULL;
        }
      if (literal->len > 0)
        {
          Piece piece = { g_strdup (literal->str), NULL, NULL, FILTER_NONE };
          g_array_append_val (template_->pieces, piece);
          g_string_truncate (literal, 0);
        }
      g_autofree char *body = g_strndup (p + 2, (gsize) (end - p - 2));
      Piece piece = { NULL, NULL, NULL, FILTER_UNSET };
      if (!parse_variable (&piece, body, error))
        {
          piece_clear (&piece);
          g_string_free (literal, TRUE);
          return NULL;
        }
      g_array_append_val (template_->pieces, piece);
      p = end;
    }
  if (literal->len > 0)
    {
      Piece piece = { g_strdup (literal->str), NULL, NULL, FILTER_NONE };
      g_array_append_val (template_->pieces, piece);
    }
  g_string_free (literal, TRUE);
  return g_steal_pointer (&template_);
}

RhTemplate *
rh_template_new_url (const char *text, GError **error)
{
  RhTemplate *template_ = rh_template_new (text, error);
  if (template_ == NULL)
    return NULL;
  for (guint i = 0; i < template_->pieces->len; i++)
    {
      Piece *piece = &g_array_index (template_->pieces, Piece, i);
      if (piece->filter == FILTER_UNSET)
        piece->filter = FILTER_URL;
    }
  return template_;
}

RhTemplate *
rh_template_new_literal (const char *text)
{
  RhTemplate *template_ = g_new0 (RhTemplate, 1);
  template_->text = g_strdup (text);
  template_->pieces = g_array_new (FALSE, TRUE, sizeof (Piece));
  g_array_set_clear_func (template_->pieces, piece_clear);
  Piece piece = { g_strdup (text), NULL, NULL, FILTER_NONE };
  g_array_append_val (template_->pieces, piece);
  return template_;
}

void
rh_template_free (RhTemplate *template_)
{
  if (template_ == NULL)
    return;
  g_clear_pointer (&template_->pieces, g_array_unref);
  g_free (template_->text);
  g_free (template_);
}

const char *
rh_template_get_text (const RhTemplate *template_)
{
  return template_->text;
}

gboolean
rh_template_is_literal (const RhTemplate *template_)
{
  for (guint i = 0; i < template_->pieces->len; i++)
    if (g_array_index (template_->pieces, Piece, i).literal == NULL)
      return FALSE;
  return TRUE;
}

void
rh_template_foreach_required_field (const RhTemplate *template_,
                                    void (*func) (const char *field, gpointer user_data),
                                    gpointer user_data)
{
  for (guint i = 0; i < template_->pieces->len; i++)
    {
      const Piece *p = &g_array_index (template_->pieces, Piece, i);
      if (p->literal == NULL && p->fallback == NULL && !g_str_has_prefix (p->name, "env."))
        func (p->name, user_data);
    }
}

void
rh_template_foreach_env (const RhTemplate *template_, void (*func) (const char *name, gpointer user_data),
                         gpointer user_data)
{
  for (guint i = 0; i < template_->pieces->len; i++)
    {
      const Piece *p = &g_array_index (template_->pieces, Piece, i);
      if (p->literal == NULL && g_str_has_prefix (p->name, "env."))
        func (p->name + 4, user_data);
    }
}

static void
append_filtered (GString *out, const char *value, Filter filter)
{
  switch (filter)
    {
    case FILTER_NONE:
    case FILTER_UNSET:
      g_string_append (out, value);
      return;
    case FILTER_URL:
      g_string_append_uri_escaped (out, value, NULL, FALSE);
      return;
    case FILTER_JSON:
      for (const char *c = value; *c != '\0'; c++)
        {
          if (*c == '"' || *c == '\\')
            g_string_append_printf (out, "\\%c", *c);
          else if ((guchar) *c < 0x20)
            g_string_append_printf (out, "\\u%04x", (guchar) *c);
          else
            g_string_append_c (out, *c);
        }
      return;
    case FILTER_UPPER:
      {
        g_autofree char *upper = g_utf8_strup (value, -1);
        g_string_append (out, upper);
        return;
      }
    case FILTER_LOWER:
      {
        g_autofree char *lower = g_utf8_strdown (value, -1);
        g_string_append (out, lower);
        return;
      }
    }
}

char *
rh_template_expand (const RhTemplate *template_, const RhEvent *event)
{
  GString *out = g_string_new (NULL);
  for (guint i = 0; i < template_->pieces->len; i++)
    {
      const Piece *p = &g_array_index (template_->pieces, Piece, i);
      if (p->literal != NULL)
        {
          g_string_append (out, p->literal);
          continue;
        }
      g_autofree char *value = g_str_has_prefix (p->name, "env.")
                               ? g_strdup (g_getenv (p->name + 4))
                               : rh_event_lookup (event, p->name);
      if ((value == NULL || *value == '\0') && p->fallback != NULL)
        g_string_append (out, p->fallback);
      else if (value != NULL)
        append_filtered (out, value, p->filter);
    }
  return g_string_free (out, FALSE);
}
