/* AMF0 values: decoding from and encoding to the byte format RTMP commands
 * and data messages use. Pure code, no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define RH_AMF0_ERROR (rh_amf0_error_quark ())
GQuark rh_amf0_error_quark (void);

typedef enum {
  RH_AMF0_ERROR_TRUNCATED,    /* a value runs past the end of the input */
  RH_AMF0_ERROR_BAD_MARKER,   /* unknown or unsupported type marker */
  RH_AMF0_ERROR_TOO_DEEP,     /* nesting deeper than RH_AMF0_MAX_DEPTH */
  RH_AMF0_ERROR_TOO_MANY,     /* more than RH_AMF0_MAX_VALUES values */
} RhAmf0Error;

/* Objects nested deeper than this are refused: a hostile peer must not be
 * able to exhaust the stack. */
#define RH_AMF0_MAX_DEPTH 32
/* Values one decode (one message, with rh_amf0_decode_all) may produce: a
 * value costs ~50 bytes decoded against 1 byte on the wire, so a 16 MiB
 * array of nulls would otherwise become a gigabyte. No real command or
 * metadata comes near. */
#define RH_AMF0_MAX_VALUES 65536

typedef enum {
  RH_AMF0_NUMBER = 0x00,
  RH_AMF0_BOOLEAN = 0x01,
  RH_AMF0_STRING = 0x02,        /* also long strings (0x0C) once decoded */
  RH_AMF0_OBJECT = 0x03,
  RH_AMF0_NULL = 0x05,
  RH_AMF0_UNDEFINED = 0x06,
  RH_AMF0_REFERENCE = 0x07,
  RH_AMF0_ECMA_ARRAY = 0x08,
  RH_AMF0_STRICT_ARRAY = 0x0A,
  RH_AMF0_DATE = 0x0B,
  RH_AMF0_XML_DOCUMENT = 0x0F,
  RH_AMF0_TYPED_OBJECT = 0x10,
} RhAmf0Type;

typedef struct _RhAmf0Value RhAmf0Value;

typedef struct {
  char *name;
  RhAmf0Value *value;
} RhAmf0Property;

struct _RhAmf0Value {
  RhAmf0Type type;
  union {
    double number;                 /* NUMBER; DATE milliseconds */
    gboolean boolean;
    guint16 reference;
    struct {
      char *data;                  /* NUL-terminated copy */
      gsize len;                   /* may contain NULs */
    } string;                      /* STRING, XML_DOCUMENT */
  } v;
  gint16 date_timezone;            /* DATE only */
  char *class_name;                /* TYPED_OBJECT only */
  /* OBJECT, ECMA_ARRAY, TYPED_OBJECT: RhAmf0Property*; STRICT_ARRAY: RhAmf0Value* */
  GPtrArray *items;
};

RhAmf0Value *rh_amf0_number_new (double number);
RhAmf0Value *rh_amf0_boolean_new (gboolean boolean);
RhAmf0Value *rh_amf0_string_new (const char *str);
RhAmf0Value *rh_amf0_string_new_len (const char *data, gsize len);
RhAmf0Value *rh_amf0_null_new (void);
RhAmf0Value *rh_amf0_undefined_new (void);
RhAmf0Value *rh_amf0_object_new (void);
RhAmf0Value *rh_amf0_ecma_array_new (void);
RhAmf0Value *rh_amf0_strict_array_new (void);
RhAmf0Value *rh_amf0_date_new (double ms, gint16 timezone_minutes);
RhAmf0Value *rh_amf0_value_copy (const RhAmf0Value *value);
void rh_amf0_value_free (RhAmf0Value *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RhAmf0Value, rh_amf0_value_free)

/* Object and ECMA array properties; set takes ownership of value and
 * replaces an existing property of the same name. */
void rh_amf0_object_set (RhAmf0Value *object, const char *name, RhAmf0Value *value);
const RhAmf0Value *rh_amf0_object_get (const RhAmf0Value *object, const char *name);
/* Convenience lookups: NULL / fallback when absent or of another type. */
const char *rh_amf0_object_get_string (const RhAmf0Value *object, const char *name);
double rh_amf0_object_get_number (const RhAmf0Value *object, const char *name, double fallback);
/* FALSE when absent or not a boolean. */
gboolean rh_amf0_object_get_boolean (const RhAmf0Value *object, const char *name);
void rh_amf0_array_append (RhAmf0Value *array, RhAmf0Value *value);

gboolean rh_amf0_value_equal (const RhAmf0Value *a, const RhAmf0Value *b);

/* Decodes one value at *pos, advancing it. */
RhAmf0Value *rh_amf0_decode (const guint8 *data, gsize len, gsize *pos, GError **error);
/* Decodes values until the input ends. */
GPtrArray *rh_amf0_decode_all (const guint8 *data, gsize len, GError **error);

void rh_amf0_encode (GByteArray *out, const RhAmf0Value *value);
void rh_amf0_encode_number (GByteArray *out, double number);
void rh_amf0_encode_boolean (GByteArray *out, gboolean boolean);
void rh_amf0_encode_string (GByteArray *out, const char *str);
void rh_amf0_encode_null (GByteArray *out);

G_END_DECLS
