//! Checking and cleaning an uploaded image: JPEG, PNG or WebP by its content (never its
//! name), at most 5 MB, decoded and written again so that no metadata (EXIF, GPS, maker
//! notes, XMP) survives, turned upright by its EXIF orientation first, with a thumbnail no
//! larger than 320 px.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::core::error::{AppError, AppResult};

/// The largest photo accepted, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// The thumbnail's longest side, in pixels.
pub const THUMB: u32 = 320;
/// The most pixels a photo may have (40 megapixels: a phone's largest photos have 50 MP
/// sensors but save 12 MP), checked from its header before anything is decoded.
pub const MAX_PIXELS: u64 = 40_000_000;
/// The most bytes a photo may take decoded (width × height × bytes per pixel), checked from
/// its header before anything is decoded: about 21 MP in RGB, 16 MP in RGBA. Decoding,
/// turning upright and writing again hold at most three such copies at once.
pub const MAX_DECODED_BYTES: u64 = 64 * 1024 * 1024;

/// A checked image, ready to store.
pub struct Image {
    /// The pending upload it was taken from (`POST /uploads`), removed when it is stored.
    pub pending_id: Option<i64>,
    pub media_type: &'static str,
    pub content: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub thumbnail: Vec<u8>,
}

/// Checks and cleans one uploaded image (CPU work: call it off the async threads).
pub fn process(field: &'static str, bytes: &[u8]) -> AppResult<Image> {
    if bytes.len() > MAX_BYTES {
        return Err(AppError::bad_field(field, "每张照片不能超过 5 MB"));
    }
    let not_image = || AppError::bad_field(field, "只接受 JPEG、PNG 或 WebP 图片");
    let format = image::guess_format(bytes).map_err(|_| not_image())?;
    if !matches!(
        format,
        ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP
    ) {
        return Err(not_image());
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // A small file may claim a huge picture: its header is checked against the budget
    // before any pixel is decoded (the decoder's own limits bound its side buffers).
    let mut limits = Limits::default();
    limits.max_image_width = Some(20_000);
    limits.max_image_height = Some(20_000);
    limits.max_alloc = Some(MAX_DECODED_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| not_image())?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 || pixels > MAX_PIXELS || decoder.total_bytes() > MAX_DECODED_BYTES {
        return Err(AppError::bad_field(
            field,
            format!(
                "照片尺寸过大：{width}×{height}（最多 {} 万像素，解码后不超过 {} MB）",
                MAX_PIXELS / 10_000,
                MAX_DECODED_BYTES >> 20
            ),
        ));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| not_image())?;
    img.apply_orientation(orientation);
    let alpha = img.color().has_alpha();
    // JPEG stays JPEG and PNG stays PNG; WebP (whose encoder here is lossless only) is kept
    // as PNG when it has transparency and as JPEG otherwise.
    let (media_type, content) = match (format, alpha) {
        (ImageFormat::Png, _) | (ImageFormat::WebP, true) => ("image/png", png(&img)?),
        _ => ("image/jpeg", jpeg(&img, 88)?),
    };
    let small = img.thumbnail(THUMB, THUMB);
    let thumbnail = if alpha {
        png(&small)?
    } else {
        jpeg(&small, 80)?
    };
    Ok(Image {
        pending_id: None,
        media_type,
        content,
        width: img.width(),
        height: img.height(),
        thumbnail,
    })
}

fn jpeg(img: &DynamicImage, quality: u8) -> AppResult<Vec<u8>> {
    let mut out = Vec::new();
    let rgb = img.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(AppError::internal)?;
    Ok(out)
}

fn png(img: &DynamicImage) -> AppResult<Vec<u8>> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(AppError::internal)?;
    Ok(out.into_inner())
}
