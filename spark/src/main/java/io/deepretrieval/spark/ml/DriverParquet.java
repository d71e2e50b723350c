package io.deepretrieval.spark.ml;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Type;
import org.apache.parquet.schema.Types;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.util.List;

/**
 * Small tables written as one Parquet file by the driver itself, through the path's Hadoop filesystem: a model's
 * data is already in the driver, and a DataFrame write would run on the executors, which in client mode against a
 * driver-local folder would leave the files on the workers and an empty folder (with a success marker) on the
 * driver. Spark reads the file back as any Parquet folder. Columns: int, long, short, float, string, and arrays of
 * int or float given as {@code int[]} or {@code float[]}, or of strings as Spark's rows hold them (the standard
 * three-level list layout).
 */
final class DriverParquet {
    private DriverParquet() {
    }

    /**
     * Writes {@code rows} of {@code schema} to {@code dir}/part-00000.parquet, row by row as the iterable gives them
     * (a Dataset's local iterator holds one partition at a time in the driver).
     */
    static void write(Configuration conf, Path dir, StructType schema, Iterable<Row> rows) throws IOException {
        MessageType message = messageType(schema);
        SimpleGroupFactory groups = new SimpleGroupFactory(message);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new Path(dir, "part-00000.parquet"))
                .withConf(conf).withType(message).withCompressionCodec(CompressionCodecName.SNAPPY).build()) {
            for (Row row : rows) {
                Group g = groups.newGroup();
                for (int c = 0; c < schema.fields().length; c++) {
                    add(g, schema.fields()[c], row.get(c) instanceof scala.collection.Seq<?> ? row.getList(c) : row.get(c));
                }
                writer.write(g);
            }
        }
    }

    private static MessageType messageType(StructType schema) {
        Types.MessageTypeBuilder builder = Types.buildMessage();
        for (StructField f : schema.fields()) {
            DataType t = f.dataType();
            if (t instanceof ArrayType a && a.elementType().equals(DataTypes.StringType)) {
                builder.addField(Types.requiredList().requiredElement(PrimitiveTypeName.BINARY)
                        .as(LogicalTypeAnnotation.stringType()).named(f.name()));
            } else if (t instanceof ArrayType a) {
                builder.addField(Types.requiredList().requiredElement(primitive(a.elementType())).named(f.name()));
            } else {
                builder.addField(primitiveType(t, f.name()));
            }
        }
        return builder.named("spark_schema");
    }

    private static Type primitiveType(DataType t, String name) {
        if (t.equals(DataTypes.StringType)) {
            return Types.required(PrimitiveTypeName.BINARY).as(LogicalTypeAnnotation.stringType()).named(name);
        }
        if (t.equals(DataTypes.ShortType)) {
            return Types.required(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(16, true)).named(name);
        }
        return Types.required(primitive(t)).named(name);
    }

    private static PrimitiveTypeName primitive(DataType t) {
        if (t.equals(DataTypes.IntegerType)) {
            return PrimitiveTypeName.INT32;
        }
        if (t.equals(DataTypes.LongType)) {
            return PrimitiveTypeName.INT64;
        }
        if (t.equals(DataTypes.FloatType)) {
            return PrimitiveTypeName.FLOAT;
        }
        throw new IllegalArgumentException("DriverParquet cannot write " + t.simpleString());
    }

    private static void add(Group g, StructField f, Object value) {
        DataType t = f.dataType();
        String name = f.name();
        if (t instanceof ArrayType) {
            Group list = g.addGroup(name);
            if (value instanceof int[] ints) {
                for (int v : ints) {
                    list.addGroup("list").append("element", v);
                }
            } else if (value instanceof float[] floats) {
                for (float v : floats) {
                    list.addGroup("list").append("element", v);
                }
            } else if (value instanceof List<?> strings) {
                for (Object v : strings) {
                    list.addGroup("list").append("element", (String) v);
                }
            } else {
                throw new IllegalArgumentException("DriverParquet: column '" + name + "' needs an int[] or float[], got "
                        + (value == null ? "null" : value.getClass().getSimpleName()));
            }
        } else if (t.equals(DataTypes.StringType)) {
            g.append(name, (String) value);
        } else if (t.equals(DataTypes.IntegerType) || t.equals(DataTypes.ShortType)) {
            g.append(name, ((Number) value).intValue());
        } else if (t.equals(DataTypes.LongType)) {
            g.append(name, ((Number) value).longValue());
        } else if (t.equals(DataTypes.FloatType)) {
            g.append(name, (Float) value);
        } else {
            throw new IllegalArgumentException("DriverParquet cannot write " + t.simpleString());
        }
    }
}
