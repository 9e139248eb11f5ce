/* AMF0 as specified by Adobe's "Action Message Format -- AMF 0". */
#include "config.h"

#include <glib/gi18n.h>

#include "amf0.h"

#include <string.h>

G_DEFINE_QUARK (rh-amf0-error-quark, rh_amf0_error)

static RhAmf0Value *
value_new (RhAmf0Type type)
{
  RhAmf0Value *value = g_new0 (RhAmf0Value, 1);
  value->type = type;
  return value;
}

RhAmf0Value *
rh_amf0_number_new (double number)
{
  RhAmf0Value *value = value_new (RH_AMF0_NUMBER);
  value->v.number = number;
  return value;
}

RhAmf0Value *
rh_amf0_boolean_new (gboolean boolean)
{
  RhAmf0Value *value = value_new (RH_AMF0_BOOLEAN);
  value->v.boolean = !!boolean;
  return value;
}

RhAmf0Value *
rh_amf0_string_new_len (const char *data, gsize len)
{
  RhAmf0Value *value = value_new (RH_AMF0_STRING);
  value->v.string.data = g_malloc (len + 1);
  memcpy (value->v.string.data, data, len);
  value->v.string.data[len] = '\0';
  value->v.string.len = len;
  return value;
}

RhAmf0Value *
rh_amf0_string_new (const char *str)
{
  return rh_amf0_string_new_len (str, strlen (str));
}

RhAmf0Value *
rh_amf0_null_new (void)
{
  return value_new (RH_AMF0_NULL);
}

RhAmf0Value *
rh_amf0_undefined_new (void)
{
  return value_new (RH_AMF0_UNDEFINED);
}

static void
property_free (gpointer data)
{
  RhAmf0Property *property = data;
  g_free (property->name);
  rh_amf0_value_free (property->value);
  g_free (property);
}

static RhAmf0Value *
container_new (RhAmf0Type type)
{
  RhAmf0Value *value = value_new (type);
  value->items = g_ptr_array_new_with_free_func (type == RH_AMF0_STRICT_ARRAY
                                                 ? (GDestroyNotify) rh_amf0_value_free
                                                 : property_free);
  return value;
}

RhAmf0Value *
rh_amf0_object_new (void)
{
  return container_new (RH_AMF0_OBJECT);
}

RhAmf0Value *
rh_amf0_ecma_array_new (void)
{
  return container_new (RH_AMF0_ECMA_ARRAY);
}

RhAmf0Value *
rh_amf0_strict_array_new (void)
{
  return container_new (RH_AMF0_STRICT_ARRAY);
}

RhAmf0Value *
rh_amf0_date_new (double ms, gint16 timezone_minutes)
{
  RhAmf0Value *value = value_new (RH_AMF0_DATE);
  value->v.number = ms;
  value->date_timezone = timezone_minutes;
  return value;
}

void
rh_amf0_value_free (RhAmf0Value *value)
{
  if (value == NULL)
    return;
  if (value->type == RH_AMF0_STRING || value->type == RH_AMF0_XML_DOCUMENT)
    g_free (value->v.string.data);
  g_free (value->class_name);
  if (value->items != NULL)
    g_ptr_array_unref (value->items);
  g_free (value);
}

static gboolean
is_keyed (const RhAmf0Value *value)
{
  return value->type == RH_AMF0_OBJECT || value->type == RH_AMF0_ECMA_ARRAY
         || value->type == RH_AMF0_TYPED_OBJECT;
}

RhAmf0Value *
rh_amf0_value_copy (const RhAmf0Value *value)
{
  RhAmf0Value *copy;

  if (value->items != NULL)
    copy = container_new (value->type);
  else
    copy = value_new (value->type);
  copy->v = value->v;
  copy->date_timezone = value->date_timezone;
  copy->class_name = g_strdup (value->class_name);
  if (value->type == RH_AMF0_STRING || value->type == RH_AMF0_XML_DOCUMENT)
    copy->v.string.data = g_memdup2 (value->v.string.data, value->v.string.len + 1);
  for (guint i = 0; value->items != NULL && i < value->items->len; i++)
    {
      if (is_keyed (value))
        {
          const RhAmf0Property *property = g_ptr_array_index (value->items, i);
          rh_amf0_object_set (copy, property->name, rh_amf0_value_copy (property->value));
        }
      else
        {
          rh_amf0_array_append (copy, rh_amf0_value_copy (g_ptr_array_index (value->items, i)));
        }
    }
  return copy;
}

void
rh_amf0_object_set (RhAmf0Value *object, const char *name, RhAmf0Value *value)
{
  g_return_if_fail (is_keyed (object));

  for (guint i = 0; i < object->items->len; i++)
    {
      RhAmf0Property *property = g_ptr_array_index (object->items, i);
      if (strcmp (property->name, name) == 0)
        {
          rh_amf0_value_free (property->value);
          property->value = value;
          return;
        }
    }
  RhAmf0Property *property = g_new (RhAmf0Property, 1);
  property->name = g_strdup (name);
  property->value = value;
  g_ptr_array_add (object->items, property);
}

const RhAmf0Value *
rh_amf0_object_get (const RhAmf0Value *object, const char *name)
{
  if (object == NULL || !is_keyed (object))
    return NULL;
  for (guint i = 0; i < object->items->len; i++)
    {
      const RhAmf0Property *property = g_ptr_array_index (object->items, i);
      if (strcmp (property->name, name) == 0)
        return property->value;
    }
  return NULL;
}

const char *
rh_amf0_object_get_string (const RhAmf0Value *object, const char *name)
{
  const RhAmf0Value *value = rh_amf0_object_get (object, name);
  if (value == NULL || value->type != RH_AMF0_STRING)
    return NULL;
  return value->v.string.data;
}

double
rh_amf0_object_get_number (const RhAmf0Value *object, const char *name, double fallback)
{
  const RhAmf0Value *value = rh_amf0_object_get (object, name);
  if (value == NULL || value->type != RH_AMF0_NUMBER)
    return fallback;
  return value->v.number;
}

gboolean
rh_amf0_object_get_boolean (const RhAmf0Value *object, const char *name)
{
  const RhAmf0Value *value = rh_amf0_object_get (object, name);
  return value != NULL && value->type == RH_AMF0_BOOLEAN && value->v.boolean;
}

void
rh_amf0_array_append (RhAmf0Value *array, RhAmf0Value *value)
{
  g_return_if_fail (array->type == RH_AMF0_STRICT_ARRAY);
  g_ptr_array_add (array->items, value);
}

gboolean
rh_amf0_value_equal (const RhAmf0Value *a, const RhAmf0Value *b)
{
  if (a->type != b->type)
    return FALSE;
  switch (a->type)
    {
    case RH_AMF0_NUMBER:
      return a->v.number == b->v.number
             || (a->v.number != a->v.number && b->v.number != b->v.number);
    case RH_AMF0_BOOLEAN:
      return a->v.boolean == b->v.boolean;
    case RH_AMF0_REFERENCE:
      return a->v.reference == b->v.reference;
    case RH_AMF0_DATE:
      return a->v.number == b->v.number && a->date_timezone == b->date_timezone;
    case RH_AMF0_STRING:
    case RH_AMF0_XML_DOCUMENT:
      return a->v.string.len == b->v.string.len
             && memcmp (a->v.string.data, b->v.string.data, a->v.string.len) == 0;
    case RH_AMF0_NULL:
    case RH_AMF0_UNDEFINED:
      return TRUE;
    case RH_AMF0_OBJECT:
    case RH_AMF0_ECMA_ARRAY:
    case RH_AMF0_TYPED_OBJECT:
    case RH_AMF0_STRICT_ARRAY:
      break;
    }
  if (g_strcmp0 (a->class_name, b->class_name) != 0 || a->items->len != b->items->len)
    return FALSE;
  for (guint i = 0; i < a->items->len; i++)
    {
      if (a->type == RH_AMF0_STRICT_ARRAY)
        {
          if (!rh_amf0_value_equal (g_ptr_array_index (a->items, i), g_ptr_array_index (b->items, i)))
            return FALSE;
        }
      else
        {
          const RhAmf0Property *pa = g_ptr_array_index (a->items, i);
          const RhAmf0Property *pb = g_ptr_array_index (b->items, i);
          if (strcmp (pa->name, pb->name) != 0 || !rh_amf0_value_equal (pa->value, pb->value))
            return FALSE;
        }
    }
  return TRUE;
}

/* ---- decoding ---- */

typedef struct {
  const guint8 *data;
  gsize len;
  gsize pos;
  guint values_left;   /* of RH_AMF0_MAX_VALUES */
} Reader;

static gboolean
need (Reader *r, gsize n, GError **error)
{
  if (r->len - r->pos < n)
    {
      g_set_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TRUNCATED,
                   _("AMF0 value needs %lu bytes at offset %lu, only %lu left"), (unsigned long) n,
                   (unsigned long) r->pos, (unsigned long) (r->len - r->pos));
      return FALSE;
    }
  return TRUE;
}

static guint16
read_u16 (Reader *r)
{
  guint16 v = (guint16) ((r->data[r->pos] << 8) | r->data[r->pos + 1]);
  r->pos += 2;
  return v;
}

static guint32
read_u32 (Reader *r)
{
  guint32 v = ((guint32) r->data[r->pos] << 24) | ((guint32) r->data[r->pos + 1] << 16)
              | ((guint32) r->data[r->pos + 2] << 8) | r->data[r->pos + 3];
  r->pos += 4;
  return v;
}

static double
read_double (Reader *r)
{
  guint64 bits = ((guint64) read_u32 (r) << 32);
  bits |= read_u32 (r);
  double d;
  memcpy (&d, &bits, sizeof d);
  return d;
}

static char *
read_utf8 (Reader *r, gsize len_bytes, gsize *out_len, GError **error)
{
  if (!need (r, len_bytes, error))
    return NULL;
  gsize len = len_bytes == 2 ? read_u16 (r) : read_u32 (r);
  if (!need (r, len, error))
    return NULL;
  char *str = g_malloc (len + 1);
  memcpy (str, r->data + r->pos, len);
  str[len] = '\0';
  r->pos += len;
  *out_len = len;
  return str;
}

static RhAmf0Value *decode_value (Reader *r, guint depth, GError **error);

/* Properties up to the empty-name + object-end marker. */
static gboolean
decode_properties (Reader *r, RhAmf0Value *object, guint depth, GError **error)
{
  for (;;)
    {
      gsize name_len;
      g_autofree char *name = read_utf8 (r, 2, &name_len, error);
      if (name == NULL)
        return FALSE;
      if (name_len == 0)
        {
          if (!need (r, 1, error))
            return FALSE;
          if (r->data[r->pos] == 0x09)
            {
              r->pos++;
              return TRUE;
            }
        }
      RhAmf0Value *value = decode_value (r, depth + 1, error);
      if (value == NULL)
        return FALSE;
      rh_amf0_object_set (object, name, value);
    }
}

static RhAmf0Value *
decode_value (Reader *r, guint depth, GError **error)
{
  if (depth > RH_AMF0_MAX_DEPTH)
    {
      g_set_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TOO_DEEP,
                   _("AMF0 values nested deeper than %d"), RH_AMF0_MAX_DEPTH);
      return NULL;
    }
  if (r->values_left == 0)
    {
      g_set_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_TOO_MANY,
                   _("more than %d AMF0 values in one message"), RH_AMF0_MAX_VALUES);
      return NULL;
    }
  r->values_left--;
  if (!need (r, 1, error))
    return NULL;

  guint8 marker = r->data[r->pos++];
  g_autoptr (RhAmf0Value) value = NULL;
  gsize len;
  char *str;

  switch (marker)
    {
    case 0x00:
      if (!need (r, 8, error))
        return NULL;
      return rh_amf0_number_new (read_double (r));
    case 0x01:
      if (!need (r, 1, error))
        return NULL;
      return rh_amf0_boolean_new (r->data[r->pos++] != 0);
    case 0x02:
    case 0x0C:
    case 0x0F:
      str = read_utf8 (r, marker == 0x02 ? 2 : 4, &len, error);
      if (str == NULL)
        return NULL;
      value = value_new (marker == 0x0F ? RH_AMF0_XML_DOCUMENT : RH_AMF0_STRING);
      value->v.string.data = str;
      value->v.string.len = len;
      return g_steal_pointer (&value);
    case 0x03:
      value = rh_amf0_object_new ();
      if (!decode_properties (r, value, depth, error))
        return NULL;
      return g_steal_pointer (&value);
    case 0x05:
      return rh_amf0_null_new ();
    case 0x06:
      return rh_amf0_undefined_new ();
    case 0x07:
      if (!need (r, 2, error))
        return NULL;
      value = value_new (RH_AMF0_REFERENCE);
      value->v.reference = read_u16 (r);
      return g_steal_pointer (&value);
    case 0x08:
      /* The count is only a hint (ffmpeg writes 0 at times): the array ends
       * at the object-end marker like an object. */
      if (!need (r, 4, error))
        return NULL;
      read_u32 (r);
      value = rh_amf0_ecma_array_new ();
      if (!decode_properties (r, value, depth, error))
        return NULL;
      return g_steal_pointer (&value);
    case 0x0A:
      {
        if (!need (r, 4, error))
          return NULL;
        guint32 count = read_u32 (r);
        value = rh_amf0_strict_array_new ();
        /* Every element takes at least one byte: a larger count is a lie. */
        if (!need (r, count, error))
          return NULL;
        for (guint32 i = 0; i < count; i++)
          {
            RhAmf0Value *item = decode_value (r, depth + 1, error);
            if (item == NULL)
              return NULL;
            rh_amf0_array_append (value, item);
          }
        return g_steal_pointer (&value);
      }
    case 0x0B:
      {
        if (!need (r, 10, error))
          return NULL;
        double ms = read_double (r);
        gint16 tz = (gint16) read_u16 (r);
        return rh_amf0_date_new (ms, tz);
      }
    case 0x10:
      str = read_utf8 (r, 2, &len, error);
      if (str == NULL)
        return NULL;
      value = container_new (RH_AMF0_TYPED_OBJECT);
      value->class_name = str;
      if (!decode_properties (r, value, depth, error))
        return NULL;
      return g_steal_pointer (&value);
    default:
      g_set_error (error, RH_AMF0_ERROR, RH_AMF0_ERROR_BAD_MARKER,
                   _("unsupported AMF0 type marker 0x%02x at offset %lu"),
                   marker, (unsigned long) (r->pos - 1));
      return NULL;
    }
}

RhAmf0Value *
rh_amf0_decode (const guint8 *data, gsize len, gsize *pos, GError **error)
{
  Reader r = { data, len, *pos, RH_AMF0_MAX_VALUES };
  RhAmf0Value *value = decode_value (&r, 0, error);
  if (value != NULL)
    *pos = r.pos;
  return value;
}

GPtrArray *
rh_amf0_decode_all (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func ((GDestroyNotify) rh_amf0_value_free);
  /* One budget for the whole message. */
  Reader r = { data, len, 0, RH_AMF0_MAX_VALUES };
  while (r.pos < len)
    {
      RhAmf0Value *value = decode_value (&r, 0, error);
      if (value == NULL)
        return NULL;
      g_ptr_array_add (values, value);
    }
  return g_steal_pointer (&values);
}

/* ---- encoding ---- */

static void
put_u16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { v >> 8, v & 0xff };
  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff };
  g_byte_array_append (out, b, 4);
}

static void
put_marker (GByteArray *out, guint8 marker)
{
  g_byte_array_append (out, &marker, 1);
}

static void
put_double (GByteArray *out, double d)
{
  guint64 bits;
  memcpy (&bits, &d, sizeof bits);
  put_u32 (out, (guint32) (bits >> 32));
  put_u32 (out, (guint32) bits);
}

/* Property names are UTF-8 with a 16-bit length: longer ones are cut. */
static void
put_short_utf8 (GByteArray *out, const char *data, gsize len)
{
  len = MIN (len, G_MAXUINT16);
  put_u16 (out, (guint16) len);
  g_byte_array_append (out, (const guint8 *) data, (guint) len);
}

void
rh_amf0_encode_number (GByteArray *out, double number)
{
  put_marker (out, 0x00);
  put_double (out, number);
}

void
rh_amf0_encode_boolean (GByteArray *out, gboolean boolean)
{
  guint8 b[2] = { 0x01, boolean ? 1 : 0 };
  g_byte_array_append (out, b, 2);
}

static void
encode_string_len (GByteArray *out, const char *data, gsize len)
{
  if (len > G_MAXUINT16)
    {
      put_marker (out, 0x0C);
      put_u32 (out, (guint32) len);
      g_byte_array_append (out, (const guint8 *) data, (guint) len);
    }
  else
    {
      put_marker (out, 0x02);
      put_short_utf8 (out, data, len);
    }
}

void
rh_amf0_encode_string (GByteArray *out, const char *str)
{
  encode_string_len (out, str, strlen (str));
}

void
rh_amf0_encode_null (GByteArray *out)
{
  put_marker (out, 0x05);
}

static void
encode_properties (GByteArray *out, const RhAmf0Value *value)
{
  for (guint i = 0; i < value->items->len; i++)
    {
      const RhAmf0Property *property = g_ptr_array_index (value->items, i);
      put_short_utf8 (out, property->name, strlen (property->name));
      rh_amf0_encode (out, property->value);
    }
  static const guint8 end[3] = { 0, 0, 0x09 };
  g_byte_array_append (out, end, 3);
}

void
rh_amf0_encode (GByteArray *out, const RhAmf0Value *value)
{
  switch (value->type)
    {
    case RH_AMF0_NUMBER:
      rh_amf0_encode_number (out, value->v.number);
      break;
    case RH_AMF0_BOOLEAN:
      rh_amf0_encode_boolean (out, value->v.boolean);
      break;
    case RH_AMF0_STRING:
      encode_string_len (out, value->v.string.data, value->v.string.len);
      break;
    case RH_AMF0_XML_DOCUMENT:
      put_marker (out, 0x0F);
      put_u32 (out, (guint32) value->v.string.len);
      g_byte_array_append (out, (const guint8 *) value->v.string.data, (guint) value->v.string.len);
      break;
    case RH_AMF0_NULL:
    case RH_AMF0_UNDEFINED:
      put_marker (out, value->type);
      break;
    case RH_AMF0_REFERENCE:
      put_marker (out, 0x07);
      put_u16 (out, value->v.reference);
      break;
    case RH_AMF0_DATE:
      put_marker (out, 0x0B);
      put_double (out, value->v.number);
      put_u16 (out, (guint16) value->date_timezone);
      break;
    case RH_AMF0_OBJECT:
      put_marker (out, 0x03);
      encode_properties (out, value);
      break;
    case RH_AMF0_ECMA_ARRAY:
      put_marker (out, 0x08);
      put_u32 (out, value->items->len);
      encode_properties (out, value);
      break;
    case RH_AMF0_TYPED_OBJECT:
      put_marker (out, 0x10);
      put_short_utf8 (out, value->class_name, strlen (value->class_name));
      encode_properties (out, value);
      break;
    case RH_AMF0_STRICT_ARRAY:
      put_marker (out, 0x0A);
      put_u32 (out, value->items->len);
      for (guint i = 0; i < value->items->len; i++)
        rh_amf0_encode (out, g_ptr_array_index (value->items, i));
      break;
    }
}
