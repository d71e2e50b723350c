package io.deepretrieval.model.retrieval;

import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LogDocMergePolicy;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * Approximate top-k by dot product: Lucene's HNSW graph (maximum-inner-product similarity, since the towers are
 * trained on raw dot products and embeddings are not normalised), behind the same {@link TopK} interface as the exact
 * index (TFRS puts ScaNN there; on the JVM, Lucene is the well-kept HNSW).
 *
 * <p>Built through a one-segment Lucene index ({@link KnnFloatVectorField}, one document per candidate row) rather
 * than {@code HnswGraphBuilder} on raw arrays: Lucene's public API can write and reopen a graph only through its
 * codec, and this way the graph is saved next to a model and memory-mapped on load instead of being rebuilt (1M
 * candidates take minutes to build). Searches go straight to the segment's
 * {@link LeafReader#searchNearestVectors} with the exclusions as its accepted-documents filter, so excluded rows are
 * walked through but never returned. The beam of a search is {@code max(k, efSearch)}.
 *
 * <p>Scores are the dot products recovered from Lucene's scaled inner-product score (within float rounding of the
 * exact ones). Candidates with non-finite values are refused (the graph cannot place them); a query with a
 * non-finite value gets no hits, as with the exact index, where all its scores would be NaN.
 */
public final class HnswTopK implements TopK {
    static final String FIELD = "embedding";
    static final String ROW = "row";
    private static final String FORMAT = "deep-retrieval-hnsw-1";

    /**
     * Graph parameters: {@code m} neighbours per node (Lucene's maxConn, default 16), {@code beamWidth} candidates
     * kept while inserting (efConstruction, default 100), {@code efSearch} the least beam of a search (default 100).
     */
    public record Params(int m, int beamWidth, int efSearch) {
        public Params {
            if (m < 2 || m > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
                throw new IllegalArgumentException("HNSW m must be in 2.." + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN + ", got " + m);
            }
            if (beamWidth < 1 || beamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
                throw new IllegalArgumentException("HNSW beamWidth must be in 1.." + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH + ", got " + beamWidth);
            }
            if (efSearch < 1) {
                throw new IllegalArgumentException("HNSW efSearch must be >= 1, got " + efSearch);
            }
        }

        public static Params defaults() {
            return new Params(16, 100, 100);
        }
    }

    private final Directory directory;
    private final DirectoryReader reader;
    private final LeafReader leaf;
    private final int size;
    private final int dim;
    private final Params params;

    private HnswTopK(Directory directory, DirectoryReader reader, Params params) throws IOException {
        this.directory = directory;
        this.reader = reader;
        Map<String, String> meta = reader.getIndexCommit().getUserData();
        if (!FORMAT.equals(meta.get("format")) || reader.leaves().size() != 1) {
            throw new IOException("not a deep-retrieval HNSW index (format " + meta.get("format") + ", "
                    + reader.leaves().size() + " segments)");
        }
        this.leaf = reader.leaves().get(0).reader();
        this.size = Integer.parseInt(meta.get("size"));
        this.dim = Integer.parseInt(meta.get("dim"));
        this.params = params;
        checkRowOrder();
    }

    /**
     * Indexes row-major [m, dim] {@code candidates} into {@code dir} (null: in memory; else a folder that must not
     * exist yet or be empty) and opens the index. The graph is saved with a fingerprint of the candidates
     * ({@link #fingerprint}) so that a later {@link #open} can tell whether it still matches them.
     */
    public static HnswTopK build(float[] candidates, int m, int dim, Params params, Path dir) throws IOException {
        if (m < 1 || dim < 1 || (long) m * dim != candidates.length) {
            throw new IllegalArgumentException("candidate matrix holds " + candidates.length + " values, not " + m + " x " + dim);
        }
        for (int i = 0; i < candidates.length; i++) {
            if (!Float.isFinite(candidates[i])) {
                throw new IllegalArgumentException("candidate row " + (i / dim) + " has a non-finite value ("
                        + candidates[i] + "): HNSW cannot index it");
            }
        }
        Directory directory;
        if (dir == null) {
            directory = new ByteBuffersDirectory();
        } else {
            Files.createDirectories(dir);
            try (var entries = Files.list(dir)) {
                if (entries.findAny().isPresent()) {
                    throw new IOException("HNSW index folder " + dir + " is not empty");
                }
            }
            directory = FSDirectory.open(dir);
        }
        Lucene99HnswVectorsFormat format = new Lucene99HnswVectorsFormat(params.m(), params.beamWidth());
        IndexWriterConfig config = new IndexWriterConfig()
                .setCodec(new Lucene912Codec() {
                    @Override
                    public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
                        return format;
                    }
                })
                // One segment, in row order: one big buffer (flushed once, at commit), and should it flush
                // early, a merge policy that keeps documents in the order they were added.
                .setRAMBufferSizeMB(1900)
                .setMergePolicy(new LogDocMergePolicy())
                .setUseCompoundFile(false)
                .setCommitOnClose(false);
        try (IndexWriter writer = new IndexWriter(directory, config)) {
            for (int r = 0; r < m; r++) {
                Document doc = new Document();
                doc.add(new KnnFloatVectorField(FIELD, Arrays.copyOfRange(candidates, r * dim, (r + 1) * dim),
                        VectorSimilarityFunction.MAXIMUM_INNER_PRODUCT));
                doc.add(new NumericDocValuesField(ROW, r));
                writer.addDocument(doc);
            }
            writer.forceMerge(1);
            writer.setLiveCommitData(Map.of("format", FORMAT, "size", Integer.toString(m), "dim", Integer.toString(dim),
                    "m", Integer.toString(params.m()), "beamWidth", Integer.toString(params.beamWidth()),
                    "fingerprint", fingerprint(candidates)).entrySet());
            writer.commit();
        } catch (IOException | RuntimeException e) {
            directory.close();
            throw e;
        }
        return new HnswTopK(directory, DirectoryReader.open(directory), params);
    }

    /**
     * Opens an index that {@link #build} saved in {@code dir}, searching with beam {@code efSearch}; null when
     * there is none, or when it was built for other candidates ({@code fingerprint}, null: not checked) or other
     * graph parameters than {@code params}' m and beamWidth.
     */
    public static HnswTopK open(Path dir, Params params, String fingerprint) throws IOException {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        FSDirectory directory = FSDirectory.open(dir);
        try {
            if (!DirectoryReader.indexExists(directory)) {
                directory.close();
                return null;
            }
            DirectoryReader reader = DirectoryReader.open(directory);
            Map<String, String> meta = reader.getIndexCommit().getUserData();
            if ((fingerprint != null && !fingerprint.equals(meta.get("fingerprint")))
                    || !Integer.toString(params.m()).equals(meta.get("m"))
                    || !Integer.toString(params.beamWidth()).equals(meta.get("beamWidth"))) {
                reader.close();
                directory.close();
                return null;
            }
            return new HnswTopK(directory, reader, params);
        } catch (IOException | RuntimeException e) {
            directory.close();
            throw e;
        }
    }

    /** A checksum of the candidates' values, to tell a saved graph from one built for other embeddings. */
    public static String fingerprint(float[] candidates) {
        CRC32 crc = new CRC32();
        ByteBuffer bytes = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : candidates) {
            if (!bytes.hasRemaining()) {
                crc.update(bytes.flip());
                bytes.clear();
            }
            bytes.putFloat(v);
        }
        crc.update(bytes.flip());
        return candidates.length + ":" + Long.toHexString(crc.getValue());
    }

    /** Documents must be the rows in order (one segment written by one thread): checked once on open. */
    private void checkRowOrder() throws IOException {
        if (leaf.maxDoc() != size) {
            throw new IOException("HNSW index holds " + leaf.maxDoc() + " documents, not " + size);
        }
        NumericDocValues rows = leaf.getNumericDocValues(ROW);
        for (int doc = rows.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = rows.nextDoc()) {
            if (rows.longValue() != doc) {
                throw new IOException("HNSW index document " + doc + " holds row " + rows.longValue());
            }
        }
    }

    public Params params() {
        return params;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int dim() {
        return dim;
    }

    @Override
    public String kind() {
        return "hnsw";
    }

    @Override
    public Hits[] search(float[] queries, int n, int k, int[][] exclude) {
        return search(queries, n, k, exclude, params.efSearch());
    }

    /** {@link #search(float[], int, int, int[][])} with another least beam than the index's efSearch. */
    public Hits[] search(float[] queries, int n, int k, int[][] exclude, int efSearch) {
        TopK.checkArguments(this, queries, n, k, exclude);
        if (efSearch < 1) {
            throw new IllegalArgumentException("HNSW efSearch must be >= 1, got " + efSearch);
        }
        Hits[] out = new Hits[n];
        for (int i = 0; i < n; i++) {
            float[] q = Arrays.copyOfRange(queries, i * dim, (i + 1) * dim);
            out[i] = searchOne(q, k, exclude == null ? null : exclude[i], Math.max(k, efSearch));
        }
        return out;
    }

    private Hits searchOne(float[] q, int k, int[] exclude, int beam) {
        for (float v : q) {
            if (!Float.isFinite(v)) {
                return new Hits(new int[0], new float[0]);
            }
        }
        Bits accept = exclude == null || exclude.length == 0 ? null : excluding(exclude);
        TopDocs top;
        try {
            top = leaf.searchNearestVectors(FIELD, q, beam, accept, Integer.MAX_VALUE);
        } catch (IOException e) {
            throw new UncheckedIOException("HNSW search failed", e);
        }
        ScoreDoc[] docs = top.scoreDocs;
        int hits = Math.min(k, docs.length);
        int[] rows = new int[hits];
        float[] scores = new float[hits];
        for (int i = 0; i < hits; i++) {
            rows[i] = docs[i].doc; // documents are rows (checkRowOrder)
            scores[i] = dotProduct(docs[i].score);
        }
        return new Hits(rows, scores);
    }

    /** The dot product behind Lucene's maximum-inner-product score (its VectorUtil.scaleMaxInnerProductScore). */
    static float dotProduct(float scaled) {
        return scaled >= 1 ? scaled - 1 : 1 - 1 / scaled;
    }

    /** Every row but {@code rows}: a sorted copy searched per visit, small whatever the catalogue's size. */
    private Bits excluding(int[] rows) {
        int[] sorted = rows.clone();
        Arrays.sort(sorted);
        return new Bits() {
            @Override
            public boolean get(int index) {
                return Arrays.binarySearch(sorted, index) < 0;
            }

            @Override
            public int length() {
                return size;
            }
        };
    }

    @Override
    public void close() {
        try {
            reader.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
